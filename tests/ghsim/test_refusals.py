"""GitHub's own refusals of run actions, and GitHub Enterprise Server with API rate limiting turned off.

The wordings and statuses are GitHub's (tests/contract/test_refusals.py names where each was recorded): a run is
re-run only within 30 days of its creation and only once it has finished, a completed run cannot be cancelled, and
only a run held for approval can be approved.
"""

from __future__ import annotations

import pytest

from ghsim.__main__ import parse
from ghsim.testing import running_simulator
from tests.ghsim.conftest import START, Api, finish, until

DAY = 86_400
RERUN_TOO_OLD = "Unable to re-run this workflow run because it was created over a month ago"
RETRY_TOO_OLD = "Unable to retry this workflow run because it was created over a month ago"
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset")


def _failed_run(sim, repo: str = "acme/api"):
    run = sim.trigger(repo, "ci", outcome="failure")
    finish(sim, run.id)
    return run


def test_it_refuses_to_rerun_a_run_that_has_not_finished(sim, api_as):
    run = sim.trigger("acme/api", "ci")
    alice = api_as("alice")

    for action in ("rerun", "rerun-failed-jobs"):
        refused = alice.post(f"/repos/acme/api/actions/runs/{run.id}/{action}")
        assert refused.status_code == 403
        assert refused.json()["message"] == "This workflow is already running"
    assert sim.truth()["runs"][0]["run_attempt"] == 1


def test_it_reruns_a_run_until_30_days_after_its_creation_and_refuses_after(sim):
    run = _failed_run(sim)
    created = sim.world.runs[run.id].created_at
    sim.advance(created + 30 * DAY - 60 - sim.now())  # a minute before the window closes

    inside = Api(sim, sim.user_token("alice")).post(f"/repos/acme/api/actions/runs/{run.id}/rerun-failed-jobs")
    finish(sim, run.id)
    sim.advance(max(0.0, created + 30 * DAY + 60 - sim.now()))  # a minute after
    alice = Api(sim, sim.user_token("alice"))
    rerun = alice.post(f"/repos/acme/api/actions/runs/{run.id}/rerun")
    retry = alice.post(f"/repos/acme/api/actions/runs/{run.id}/rerun-failed-jobs")

    assert inside.status_code == 201
    # The window runs from the run's creation, not from its latest attempt.
    assert (rerun.status_code, rerun.json()["message"]) == (403, RERUN_TOO_OLD)
    assert (retry.status_code, retry.json()["message"]) == (403, RETRY_TOO_OLD)
    assert sim.truth()["runs"][0]["run_attempt"] == 2


def test_it_refuses_an_installation_token_too_after_30_days(sim):
    run = _failed_run(sim)
    sim.advance(31 * DAY)

    refused = Api(sim, sim.installation_token(70001)).post(f"/repos/acme/api/actions/runs/{run.id}/rerun")

    assert (refused.status_code, refused.json()["message"]) == (403, RERUN_TOO_OLD)


def test_it_says_a_user_without_write_access_needs_it_before_anything_else(sim, api_as):
    run = _failed_run(sim)
    sim.advance(31 * DAY)

    refused = api_as("bob").post(f"/repos/acme/api/actions/runs/{run.id}/rerun")

    assert (refused.status_code, refused.json()["message"]) == (403, "Must have admin rights to Repository.")


def test_it_refuses_to_approve_a_run_that_awaits_no_approval(sim, api_as):
    run = sim.trigger("acme/api", "ci")
    until(sim, run.id, "in_progress")

    refused = api_as("alice").post(f"/repos/acme/api/actions/runs/{run.id}/approve")
    not_a_writer = api_as("bob").post(f"/repos/acme/api/actions/runs/{run.id}/approve")
    unknown = api_as("alice").post("/repos/acme/api/actions/runs/1/approve")
    invisible = api_as("alice").post(f"/repos/globex/skunkworks/actions/runs/{run.id}/approve")

    assert refused.status_code == 403
    assert refused.json()["message"] == "This run is not from a fork pull request or queued by the Actions bot"
    assert (not_a_writer.status_code, not_a_writer.json()["message"]) == (403, "Must have admin rights to Repository.")
    assert (unknown.status_code, invisible.status_code) == (404, 404)
    assert next(item for item in sim.truth()["runs"] if item["id"] == run.id)["status"] == "in_progress"


# GitHub Enterprise Server with API rate limiting turned off


@pytest.fixture
def unlimited():
    """A simulator answering as GitHub Enterprise Server with rate limiting turned off."""
    with running_simulator(seed=42, start_time=START, rate_limiting=False) as simulator:
        yield simulator


def test_without_rate_limiting_no_answer_carries_a_rate_limit_header(unlimited):
    alice = Api(unlimited, unlimited.user_token("alice"))
    run = unlimited.trigger("acme/api", "ci", outcome="failure")
    finish(unlimited, run.id)
    first = alice.get(f"/repos/acme/api/actions/runs/{run.id}")
    answers = [
        first,
        alice.get(f"/repos/acme/api/actions/runs/{run.id}", headers={"If-None-Match": first.headers["ETag"]}),
        alice.get("/repos/acme/nope"),
        alice.post(f"/repos/acme/api/actions/runs/{run.id}/rerun"),
        Api(unlimited).get("/user"),
        Api(unlimited, unlimited.installation_token(70001)).get("/installation/repositories"),
        Api(unlimited, unlimited.app_jwt()).get("/app"),
    ]

    assert [answer.status_code for answer in answers] == [200, 304, 404, 201, 401, 200, 200]
    for answer in answers:
        assert not [name for name in RATE_LIMIT_HEADERS if name in answer.headers], answer.url
        assert "X-RateLimit-Resource" not in answer.headers


def test_without_rate_limiting_nothing_is_ever_refused_for_a_limit(unlimited):
    unlimited.set_faults(rate_limit=2, rate_limit_exhausted=True, secondary_rate_limit_rate=1.0)
    alice = Api(unlimited, unlimited.user_token("alice"))
    anonymous = Api(unlimited)

    statuses = {alice.get("/user").status_code for _ in range(10)}
    statuses |= {anonymous.get("/repos/acme/storefront").status_code for _ in range(70)}

    assert statuses == {200}
    assert set(unlimited.request_counts()["by_status"]) == {"200"}


def test_without_rate_limiting_the_rate_limit_endpoint_says_so(unlimited):
    answer = Api(unlimited, unlimited.user_token("alice")).get("/rate_limit")

    assert answer.status_code == 404
    assert answer.json()["message"] == "Rate limiting is not enabled."
    assert unlimited.health()["rate_limiting"] is False


def test_rate_limiting_is_on_unless_switched_off_by_flag_or_environment():
    assert parse([], environ={}).rate_limiting is True
    assert parse(["--no-rate-limit"], environ={}).rate_limiting is False
    assert parse([], environ={"GHSIM_RATE_LIMITING": "false"}).rate_limiting is False
    assert parse([], environ={"GHSIM_RATE_LIMITING": "true"}).rate_limiting is True
