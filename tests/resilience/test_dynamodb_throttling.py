"""DynamoDB throttling a share of calls: failed work is answered as failed, and redone, so nothing is lost."""

import json
from datetime import UTC, datetime, timedelta

from django.test import Client

from accounts.models import SessionRecord, UserRecord
from dashboard.reconciliation import reconcile
from runs.models import WorkflowRun
from runs.visibility import visibility_epoch
from tests.plugins.github import sign_in
from tests.resilience.conftest import assert_sees_only_their_own, json_of, signed_in
from tests.runs.conftest import settle
from tests.webhooks.test_storms import (
    assert_cache_equals_truth,
    assert_each_change_announced_once,
    assert_summaries_equal_truth,
    busy_hour,
)
from webhooks.models import WebhookDelivery

ONLY_DELIVERIES = timedelta(days=365)  # reconciliation then re-reads no run: only redelivery heals


def _sim_now(sim):
    return datetime.fromtimestamp(sim.now(), UTC)


def test_webhook_deliveries_converge_through_throttling_once_the_failed_ones_are_redelivered(
    hooked, dynamodb_throttling
):
    viewers = {login: signed_in(login) for login in ("bob", "dana")}
    for viewer in viewers.values():
        viewer.raise_request_exception = False
    seen = []
    dynamodb_throttling.set(0.3)

    busy_hour(hooked, minutes=16)
    settle(hooked)
    for login, viewer in viewers.items():
        seen.append((login, viewer.get("/api/repos")))
    dynamodb_throttling.set(0.0)

    deliveries = hooked.deliveries()
    failed = [delivery for delivery in deliveries if not 200 <= delivery.status_code < 300]
    assert dynamodb_throttling.throttled["TransactWriteItems"]
    assert dynamodb_throttling.throttled["UpdateItem"]
    assert failed, "no delivery failed: the test proves nothing"
    # A failure is a 5xx, which GitHub records as failed and lets us redeliver; never a 4xx refusal.
    assert {delivery.status_code // 100 for delivery in failed} == {5}
    # Nothing is lost behind a success: every delivery answered 2xx was recorded.
    recorded = {item.delivery_id for item in WebhookDelivery.scan()}
    assert {delivery.guid for delivery in deliveries if 200 <= delivery.status_code < 300} <= recorded
    for login, response in seen:
        if response.status_code == 200:
            assert_sees_only_their_own(login, json_of(response))

    report = reconcile(older_than=ONLY_DELIVERIES, now=_sim_now(hooked))
    hooked.advance(0)  # the redeliveries go out

    assert report.deliveries_redelivered >= len({delivery.guid for delivery in failed})
    assert_cache_equals_truth(hooked)
    assert_summaries_equal_truth(hooked)
    assert_each_change_announced_once(hooked)


def test_a_run_stored_before_its_summary_update_was_throttled_reaches_the_overview_on_redelivery(
    hooked, dynamodb_throttling
):
    hooked.trigger("acme/api", "ci", outcome="success", branch="main")
    hooked.advance(60)
    dynamodb_throttling.set(1.0, operations={"UpdateItem"})  # the run is stored; its summary update is not

    settle(hooked)
    dynamodb_throttling.set(0.0)
    failed = {delivery.guid for delivery in hooked.deliveries() if delivery.status_code >= 500}
    assert failed, "no delivery failed: the test proves nothing"
    reconcile(older_than=ONLY_DELIVERIES, now=_sim_now(hooked))
    hooked.advance(0)

    assert_cache_equals_truth(hooked)
    assert_summaries_equal_truth(hooked)
    assert_each_change_announced_once(hooked)


def test_a_first_view_cut_short_by_throttled_writes_loads_every_run_on_the_next_view(
    dynamodb, github_sim, dynamodb_throttling
):
    for outcome in ("success", "failure", "success"):
        github_sim.trigger("acme/api", "ci", outcome=outcome, branch="main")
    settle(github_sim)
    alice = Client(raise_request_exception=False)
    sign_in(alice, "alice")
    dynamodb_throttling.set(1.0, operations={"TransactWriteItems"})

    during = alice.get("/api/repos")
    dynamodb_throttling.set(0.0)
    after = alice.get("/api/repos/acme/api")

    assert during.status_code >= 500
    assert after.status_code == 200
    truth = {run["id"]: run for run in github_sim.truth()["runs"]}
    stored = {run.run_id: (run.status, run.conclusion) for run in WorkflowRun.query("acme/api")}
    assert stored == {run_id: (run["status"], run["conclusion"]) for run_id, run in truth.items()}
    assert [run["id"] for run in json_of(after)["runs"]] == sorted(truth, reverse=True)


def test_access_lost_while_the_new_visibility_could_not_be_stored_is_still_lost_on_the_next_read(
    alice, github_sim, dynamodb_throttling
):
    from tests.realtime.test_websocket import _age_visibility

    alice.raise_request_exception = False
    assert "acme/api" in {repo["full_name"] for repo in alice.get("/api/repos").json()["repos"]}
    # acme/api leaves the App's installation; its webhook never reaches the app.
    github_sim.change_installation(70001, "remove-repos", repos=["acme/api"])
    _age_visibility(1001)  # five minutes on: the kept answer must be asked for again
    dynamodb_throttling.set(1.0, operations={"UpdateItem"})

    during = alice.get("/api/repos")
    dynamodb_throttling.set(0.0)
    after = alice.get("/api/repos")

    assert during.status_code >= 500
    assert after.status_code == 200
    assert "acme/api" not in {repo["full_name"] for repo in after.json()["repos"]}
    assert alice.get("/api/repos/acme/api").status_code == 404


def test_reconciliation_that_could_not_store_a_run_repairs_it_on_its_next_pass(alice, github_sim, dynamodb_throttling):
    run = github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(60)
    alice.get("/api/repos/acme/api")  # cached while running; no webhook will say it finished
    settle(github_sim)
    dynamodb_throttling.set(1.0, operations={"TransactWriteItems"})

    throttled = reconcile(older_than=timedelta(0), redeliver=False, now=_sim_now(github_sim))
    assert (throttled.runs_failed, throttled.runs_repaired) == (1, 0)
    assert WorkflowRun.get("acme/api", run.id).status != "completed"  # nothing half-written
    dynamodb_throttling.set(0.0)

    healed = reconcile(older_than=timedelta(0), redeliver=False, now=_sim_now(github_sim))

    assert (healed.runs_repaired, healed.runs_failed) == (1, 0)
    stored = WorkflowRun.get("acme/api", run.id)
    assert (stored.status, stored.conclusion, stored.active_status) == ("completed", "success", None)


def _redelivered(sim):
    """Reconciliation redelivers what failed; the outcomes the app gave the redeliveries."""
    reconcile(older_than=ONLY_DELIVERIES, now=_sim_now(sim))
    sim.advance(0)
    return [json.loads(delivery.response_body)["outcome"] for delivery in sim.deliveries() if delivery.redelivery]


def test_an_installation_change_whose_effect_was_throttled_is_applied_when_redelivered(hooked, dynamodb_throttling):
    before = visibility_epoch()
    dynamodb_throttling.set(1.0, operations={"UpdateItem"})  # the delivery could be recorded; its effect cannot

    hooked.change_installation(70001, "remove-repos", repos=["acme/api"])
    dynamodb_throttling.set(0.0)

    assert [delivery.status_code for delivery in hooked.deliveries()][-1] == 503
    assert visibility_epoch() == before
    assert _redelivered(hooked) == ["applied"]
    assert visibility_epoch() == before + 1


def test_a_revocation_whose_effect_was_throttled_is_applied_when_redelivered(hooked, alice, dynamodb_throttling):
    alice.raise_request_exception = False
    dynamodb_throttling.set(1.0, operations={"UpdateItem"})  # the user's tokens cannot be forgotten for now

    hooked.revoke("alice")
    dynamodb_throttling.set(0.0)

    assert [delivery.status_code for delivery in hooked.deliveries()][-1] == 503
    assert UserRecord.get(1001).token_ciphertext is not None
    assert _redelivered(hooked) == ["applied"]
    assert UserRecord.get(1001).token_ciphertext is None
    assert not list(SessionRecord.scan())
    assert alice.get("/api/repos").status_code == 401
