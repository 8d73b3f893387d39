"""DynamoDB that stops answering: requests end with a 503 that says so, inside the client's timeouts, and nothing is
half-written.

The app's client is the production one (1 s connect, 2 s read, one retry), pointed at a proxy in front of
DynamoDB Local that stops answering on demand.
"""

import json
from datetime import UTC, datetime, timedelta

import requests
from botocore.exceptions import ReadTimeoutError
from django.conf import settings
from django.utils.html import escape

from dashboard import errors
from dashboard.reconciliation import reconcile
from realtime.models import Event
from runs.models import WorkflowRun
from tests.runs.conftest import settle
from tests.webhooks.test_storms import (
    assert_cache_equals_truth,
    assert_each_change_announced_once,
    assert_summaries_equal_truth,
)
from webhooks.models import WebhookDelivery


def _causes(error: BaseException | None):
    """The error and what caused it (PynamoDB keeps botocore's error in `cause`)."""
    while error is not None:
        yield error
        error = getattr(error, "cause", None) or error.__cause__


def test_an_api_request_while_dynamodb_hangs_ends_in_a_503_after_the_read_timeouts_and_changes_nothing(
    alice, github_sim, dynamodb_proxy, settings
):
    github_sim.trigger("acme/api", "ci", outcome="success")
    settle(github_sim)
    before = alice.get("/api/repos").json()
    alice.raise_request_exception = False
    dynamodb_proxy.mode = "hang"

    during = alice.get("/api/repos")
    dynamodb_proxy.mode = "pass"
    after = alice.get("/api/repos")

    # A clear answer the client can act on, not a bare server error.
    assert during.status_code == 503
    assert during.json() == {"error": errors.UNAVAILABLE}
    assert during["Retry-After"] == "30"
    # Bounded by the client's own settings: the read timed out, once per attempt, and the client gave up.
    assert any(isinstance(cause, ReadTimeoutError) for cause in _causes(during.exc_info[1]))
    assert dynamodb_proxy.requests["hang"] == 1 + settings.DYNAMODB_MAX_RETRIES
    assert after.status_code == 200
    assert after.json() == before


def test_a_page_while_dynamodb_hangs_says_so_without_reading_the_session_again(alice, dynamodb_proxy):
    alice.raise_request_exception = False
    dynamodb_proxy.mode = "hang"

    during = alice.get("/")
    hung = dynamodb_proxy.requests["hang"]
    dynamodb_proxy.mode = "pass"

    assert during.status_code == 503
    assert during["Content-Type"].startswith("text/html")
    assert escape(errors.UNAVAILABLE) in during.content.decode()
    # The error page itself asked DynamoDB for nothing: only the failed session read (and its retry) went out.
    assert hung == 1 + settings.DYNAMODB_MAX_RETRIES


def _redeliver(sim, delivery) -> None:
    """Ask the simulated GitHub to redeliver one delivery, as a person would from the App's settings."""
    answer = requests.post(
        f"{sim.api_url}/app/hook/deliveries/{delivery.id}/attempts",
        headers={"Authorization": f"Bearer {sim.app_jwt()}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    sim.flush()


def test_a_delivery_whose_write_happened_but_whose_answer_was_lost_is_finished_by_its_redelivery(
    hooked, live_app, dynamodb_proxy
):
    run = hooked.trigger("acme/api", "ci", outcome="success", branch="main")
    hooked.advance(60)
    assert WorkflowRun.get("acme/api", run.id).status == "in_progress"
    # The rest of the run is not delivered either (it goes where nobody accepts it): reconciliation heals it.
    hooked.receiver.status = 503
    hooked.set_hook(url=hooked.receiver.url)
    settle(hooked)
    completed = next(
        delivery
        for delivery in reversed(hooked.deliveries())
        if (delivery.event, delivery.action) == ("workflow_run", "completed")
    )
    hooked.set_hook(url=f"{live_app}/webhooks/github")
    dynamodb_proxy.mode = "lose-answers"  # DynamoDB carries out the writes; their answers never arrive

    _redeliver(hooked, completed)
    dynamodb_proxy.mode = "pass"

    answered = hooked.deliveries()[-1]
    assert (answered.guid, answered.status_code // 100) == (completed.guid, 5)
    # The write happened, whole: the run, its delivery record and its browser event are one transaction.
    done = ("run", run.id, "completed")
    stored = WorkflowRun.get("acme/api", run.id).status == "completed"
    recorded = WebhookDelivery.count(completed.guid) == 1
    changes = [json.loads(event.data) for event in Event.scan()]
    announced = [change for change in changes if (change["kind"], change["id"], change["status"]) == done]
    assert (stored, recorded, len(announced)) == (True, True, 1)

    report = reconcile(older_than=timedelta(days=365), now=datetime.fromtimestamp(hooked.now(), UTC))
    hooked.advance(0)

    assert report.deliveries_redelivered >= 1
    assert_cache_equals_truth(hooked)
    assert_summaries_equal_truth(hooked)
    assert_each_change_announced_once(hooked)
