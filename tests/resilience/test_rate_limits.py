"""GitHub's primary and secondary rate limits: one refusal, then silence until the limit passes, in every container.

While a credential is limited the app sends nothing with it, shows what it has with the reason it is stale, and
carries on once the limit has passed. https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

from datetime import UTC, datetime, timedelta

from dashboard.lib import github
from dashboard.lib.github.state import GitHubState
from dashboard.reconciliation import reconcile
from runs.models import WorkflowRun
from tests.realtime.test_websocket import _age_visibility
from tests.resilience.conftest import VISIBLE
from tests.runs.conftest import settle
from tests.runs.test_api import _forget_loaded

ALICE = 1001


def _time_passes_beyond_every_limit() -> None:
    """As when the reset time comes: every block, kept in DynamoDB and in this process, is over."""
    for state in GitHubState.scan():
        if state.key.startswith("budget#"):
            state.update(actions=[GitHubState.blocked_until.set(datetime.now(UTC) - timedelta(seconds=1))])
    github.forget_process_state()


def _latest(body: dict) -> dict[str, list]:
    return {repo["full_name"]: repo.get("workflows") for repo in body["repos"]}


def test_a_secondary_limit_is_honoured_by_every_container_and_the_cache_is_shown_stale_meanwhile(alice, github_sim):
    for repo in ("acme/api", "globex/engine"):
        github_sim.trigger(repo, outcome="success", branch="main")
    settle(github_sim)
    loaded = alice.get("/api/repos").json()
    _age_visibility(ALICE)  # the kept answer must be asked for again
    _forget_loaded("globex/engine")  # and one repository's runs too
    github_sim.set_faults(secondary_rate_limit_rate=1.0, secondary_retry_after=120)
    github_sim.reset_counters()

    limited = alice.get("/api/repos")
    refused = github_sim.request_counts()["by_identity"]
    github_sim.reset_counters()
    again = alice.get("/api/repos").json()
    github.forget_process_state()  # a new container, which learns the limits from DynamoDB
    elsewhere = alice.get("/api/repos").json()

    # Each credential was refused once (a refusal is never retried): the user's, and the installation's.
    assert refused == {"alice": {"403": 1}, "installation:70002": {"403": 1}}
    # Neither is used again while the limit lasts, in this container or a new one (which may still ask, with
    # the App's own credential, for an installation token it does not have).
    assert not set(github_sim.request_counts()["by_identity"]) & set(refused)
    for body in (limited.json(), again, elsewhere):
        assert limited.status_code == 200
        assert body["stale"] is True
        assert "rate limit" in body["stale_reason"].lower()
        assert {repo["full_name"] for repo in body["repos"]} == VISIBLE["alice"]
        assert _latest(body)["acme/api"] == _latest(loaded)["acme/api"]  # what it had, shown as it was
    github_sim.set_faults(secondary_rate_limit_rate=0.0)
    _time_passes_beyond_every_limit()

    healed = alice.get("/api/repos").json()

    assert healed["stale"] is False
    assert all(repo["loaded"] for repo in healed["repos"])


def test_reconciliation_under_a_spent_primary_limit_stops_at_the_first_refusal_and_resumes_after_the_reset(
    alice, github_sim
):
    github_sim.set_faults(rate_limit_status=429)
    for outcome in ("success", "failure", "success", "failure"):
        github_sim.trigger("acme/api", "ci", outcome=outcome)
    github_sim.advance(60)
    alice.get("/api/repos/acme/api")  # cached while running; no webhook will say they finished
    settle(github_sim)
    unfinished = {run.run_id for run in WorkflowRun.query("acme/api") if run.status != "completed"}
    github_sim.set_faults(rate_limit_exhausted=True)
    github_sim.reset_counters()
    now = datetime.fromtimestamp(github_sim.now(), UTC)

    limited = reconcile(older_than=timedelta(0), now=now)
    refused = github_sim.request_counts()
    again = reconcile(older_than=timedelta(0), now=now)

    assert len(unfinished) == 4
    assert (limited.runs_failed, limited.runs_repaired) == (4, 0)
    # One 429 for the installation's token and one for the App's; the other runs are not even asked for.
    assert refused["by_status"] == {"429": 2}
    assert github_sim.request_counts()["total"] == 2  # the second pass sent nothing
    assert again.runs_failed == 4
    assert {run.run_id for run in WorkflowRun.query("acme/api") if run.status != "completed"} == unfinished
    github_sim.set_faults(rate_limit_exhausted=False)
    _time_passes_beyond_every_limit()

    healed = reconcile(older_than=timedelta(0), now=now)

    assert (healed.runs_repaired, healed.runs_failed) == (4, 0)
    assert all(run.status == "completed" for run in WorkflowRun.query("acme/api"))
