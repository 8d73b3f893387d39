"""GitHub answering 5xx or too late (the simulator's faults) during backfill, reconciliation and re-runs.

Reads are retried a bounded number of times, writes never: what could not be read is shown as not loaded (never
as empty), what was read is complete, and everything heals once GitHub answers again.
"""

from datetime import UTC, datetime, timedelta

from accounts.models import UserRecord
from dashboard.reconciliation import reconcile
from runs.models import WorkflowRun
from runs.visibility import visible_repos
from tests.resilience.conftest import VISIBLE
from tests.runs.conftest import settle
from tests.waiting import wait_until
from tests.webhooks.test_storms import assert_cache_equals_truth

ALICE = 1001
RUN_ROUTE = "GET /api/v3/repos/{owner}/{repo}/actions/runs/{run_id}"
RERUN_ROUTE = "POST /api/v3/repos/{owner}/{repo}/actions/runs/{run_id}/rerun"


def _sim_now(sim):
    return datetime.fromtimestamp(sim.now(), UTC)


def _stored(repo: str) -> dict[int, tuple]:
    return {run.run_id: (run.status, run.conclusion) for run in WorkflowRun.query(repo)}


def _truth(sim, repo: str) -> dict[int, tuple]:
    return {run["id"]: (run["status"], run["conclusion"]) for run in sim.truth()["runs"] if run["repository"] == repo}


def test_a_first_view_through_a_flaky_github_shows_complete_repositories_flags_the_rest_and_heals(
    alice, github_sim, quick_backoff
):
    for repo in sorted(VISIBLE["alice"]):
        github_sim.trigger(repo, outcome="success")
    settle(github_sim)
    visible_repos(UserRecord.get(ALICE))  # kept from an earlier look, so only the runs are asked for
    github_sim.set_faults(api_error_rate=0.5)

    views = []
    for _ in range(8):  # each view retries what is still not loaded
        body = alice.get("/api/repos").json()
        views.append(body)
        for repo in body["repos"]:
            if repo["loaded"]:
                assert _stored(repo["full_name"]) == _truth(github_sim, repo["full_name"]), repo["full_name"]
            else:
                assert repo["load_error"], repo["full_name"]  # said, never shown as a repository with no runs
                assert body["stale"] is True
        if all(repo["loaded"] for repo in body["repos"]):
            break

    assert github_sim.request_counts()["by_status"].get("502"), "GitHub never failed: the test proves nothing"
    assert any(not repo["loaded"] for repo in views[0]["repos"]), "the first view loaded everything"
    github_sim.set_faults(api_error_rate=0.0)
    healed = alice.get("/api/repos").json()
    assert all(repo["loaded"] for repo in healed["repos"])
    assert healed["stale"] is False
    assert {repo["full_name"] for repo in healed["repos"]} == VISIBLE["alice"]


def test_reconciliation_through_github_errors_changes_nothing_retries_boundedly_and_repairs_later(
    alice, github_sim, quick_backoff
):
    runs = [github_sim.trigger("acme/api", "ci", outcome=outcome) for outcome in ("success", "failure", "flaky")]
    github_sim.advance(60)
    alice.get("/api/repos/acme/api")  # cached while running; no webhook will say they finished
    settle(github_sim)
    before = _stored("acme/api")
    github_sim.set_faults(api_error_rate=1.0)
    github_sim.reset_counters()

    failing = reconcile(older_than=timedelta(0), now=_sim_now(github_sim))

    assert (failing.runs_checked, failing.runs_failed, failing.runs_repaired) == (3, 3, 0)
    assert any("deliveries could not be listed" in error for error in failing.errors)
    assert _stored("acme/api") == before  # nothing was guessed
    # Each run was asked for at most three times (a GET retried twice), the deliveries list as often.
    assert sum(github_sim.request_counts()["by_route"][RUN_ROUTE].values()) <= 3 * len(runs)
    github_sim.set_faults(api_error_rate=0.0)

    healed = reconcile(older_than=timedelta(0), now=_sim_now(github_sim))

    assert (healed.runs_repaired, healed.runs_failed) == (3, 0)
    assert _stored("acme/api") == _truth(github_sim, "acme/api")


def test_a_rerun_github_did_not_answer_is_sent_once_reported_clearly_and_shown_once_it_happens(hooked, alice, settings):
    run = hooked.trigger("acme/api", "ci", outcome="failure")
    settle(hooked)
    assert alice.get(f"/api/repos/acme/api/runs/{run.id}").json()["run"]["conclusion"] == "failure"
    rerun = f"/api/repos/acme/api/runs/{run.id}/rerun"

    # GitHub fails the request: nothing happened there, and the app does not try again on its own.
    hooked.set_faults(api_error_rate=1.0)
    refused = alice.post(rerun)
    # GitHub acts, but answers too late: the app cannot know, and must not send it again.
    settings.GITHUB_TIMEOUT = 0.5
    hooked.set_faults(api_error_rate=0.0, api_timeout_rate=1.0, api_timeout_seconds=1.0)
    unanswered = alice.post(rerun)
    hooked.set_faults(api_timeout_rate=0.0)
    counted = lambda: sum(hooked.request_counts()["by_route"][RERUN_ROUTE].values())  # noqa: E731
    wait_until(lambda: counted() == 2, what="GitHub to finish the late request")

    for response in (refused, unanswered):
        assert response.status_code == 502
        assert "not answering" in response.json()["error"]
    assert counted() == 2  # one each, never retried
    truth = next(item for item in hooked.truth()["runs"] if item["id"] == run.id)
    assert truth["run_attempt"] == 2  # re-run once, by the request whose answer was lost
    settle(hooked)  # the new attempt's webhooks reach the app
    shown = alice.get(f"/api/repos/acme/api/runs/{run.id}").json()["run"]
    assert (shown["run_attempt"], shown["status"]) == (2, "completed")
    assert_cache_equals_truth(hooked)
