"""The runs API against the simulator: backfill, cache, ETags, rate limits, faults, actions, visibility."""

import json

import jsonschema
import pytest

from runs.models import WorkflowRun
from runs.openapi import SPEC
from runs.reads import LOOKUPS_PER_WINDOW
from tests.runs.conftest import settle


def _truth_runs(sim, repo):
    return {run["id"]: run for run in sim.truth()["runs"] if run["repository"] == repo}


def _github_requests(sim, *, status=None):
    counts = sim.request_counts()
    if status is None:
        return counts["total"]
    return counts["by_status"].get(str(status), 0)


def _forget_loaded(repo):
    """Make the app load a repository's runs again on its next view, as if it had never been shown."""
    from dashboard.lib.dynamo import shared_client
    from runs.models import RepoSummary

    shared_client().update_item(
        TableName=RepoSummary.Meta.table_name,
        Key={"repoId": {"S": repo}},
        UpdateExpression="REMOVE backfilledAt",
    )


def _valid(path, method, response):
    schema = SPEC["paths"][path][method]["responses"][str(response.status_code)]["content"]["application/json"]
    jsonschema.validate(response.json(), {**schema["schema"], "components": SPEC["components"]})


def test_it_backfills_each_repository_the_first_time_it_is_shown(alice, github_sim):
    for outcome in ("success", "failure"):
        github_sim.trigger("acme/api", outcome=outcome, branch="main")
    settle(github_sim)

    response = alice.get("/api/repos")

    assert response.status_code == 200
    _valid("/api/repos", "get", response)
    repos = {repo["full_name"]: repo for repo in response.json()["repos"]}
    assert sorted(repos) == ["acme/api", "acme/payroll", "acme/storefront", "globex/data-pipeline", "globex/engine"]
    assert all(repo["loaded"] for repo in repos.values())
    stored = {run.run_id: run for run in WorkflowRun.query("acme/api")}
    truth = _truth_runs(github_sim, "acme/api")
    assert sorted(stored) == sorted(truth)
    for run_id, run in truth.items():
        assert (stored[run_id].status, stored[run_id].conclusion) == (run["status"], run["conclusion"])
    latest = repos["acme/api"]["workflows"]
    assert [workflow["conclusion"] for workflow in latest] == ["failure"]


def test_it_reads_only_dynamodb_on_later_views(alice, github_sim):
    github_sim.trigger("acme/api", outcome="success")
    settle(github_sim)
    alice.get("/api/repos")
    alice.get("/api/repos/acme/api")
    github_sim.reset_counters()

    alice.get("/api/repos")
    alice.get("/api/repos/acme/api")

    assert _github_requests(github_sim) == 0


def test_it_follows_github_pagination_when_backfilling(alice, github_sim):
    for _ in range(105):
        github_sim.trigger("globex/engine", outcome="success")
    settle(github_sim)

    body = alice.get("/api/repos/globex/engine", {"per_page": 100}).json()

    assert WorkflowRun.count("globex/engine") == 105
    assert len(body["runs"]) == 100
    assert body["next_cursor"]
    more = alice.get("/api/repos/globex/engine", {"per_page": 100, "cursor": body["next_cursor"]}).json()
    assert len(more["runs"]) == 5
    assert more["next_cursor"] is None
    assert {run["id"] for run in body["runs"]} | {run["id"] for run in more["runs"]} == set(
        _truth_runs(github_sim, "globex/engine")
    )


def test_it_refreshes_unchanged_data_with_conditional_requests_only(alice, github_sim):
    from accounts.models import UserRecord
    from runs.backfill import repo_backfill
    from runs.visibility import repo_access

    github_sim.trigger("acme/api", outcome="success")
    settle(github_sim)
    alice.get("/api/repos/acme/api")
    access = repo_access(UserRecord.get(1001), "acme/api")
    github_sim.reset_counters()

    assert repo_backfill(access) == 0

    counts = github_sim.request_counts()
    assert counts["total"] >= 1
    assert counts["by_status"] == {"304": counts["total"]}


def test_it_filters_runs(alice, github_sim):
    github_sim.trigger("acme/storefront", "ci", outcome="failure", branch="main")
    github_sim.trigger("acme/storefront", "ci", outcome="success", branch="feature/checkout")
    settle(github_sim)

    failed = alice.get("/api/repos/acme/storefront", {"status": "failure"}).json()["runs"]
    feature = alice.get("/api/repos/acme/storefront", {"branch": "feature/checkout"}).json()["runs"]

    assert [run["conclusion"] for run in failed] == ["failure"]
    assert [run["head_branch"] for run in feature] == ["feature/checkout"]


def test_it_shows_jobs_and_steps_and_names_the_failing_step(alice, github_sim):
    run = github_sim.trigger("acme/api", "ci", outcome="failure")
    settle(github_sim)

    response = alice.get(f"/api/repos/acme/api/runs/{run.id}")

    assert response.status_code == 200
    _valid("/api/repos/{owner}/{repo}/runs/{run_id}", "get", response)
    jobs = response.json()["jobs"]
    assert jobs
    failed = [job for job in jobs if job["conclusion"] == "failure"]
    assert failed
    assert [job["failing_step"] for job in failed] == ["Install ruff"]
    assert all(job["steps"] for job in jobs if job["conclusion"] != "skipped")


def test_it_serves_the_cache_and_says_it_is_stale_when_the_rate_limit_is_spent(alice, github_sim):
    github_sim.trigger("acme/api", outcome="success")
    settle(github_sim)
    alice.get("/api/repos/acme/api")  # loads acme/api, and keeps alice's visibility
    github_sim.set_faults(rate_limit_exhausted=True)

    cached = alice.get("/api/repos/acme/api")
    never_loaded = alice.get("/api/repos/globex/engine")

    assert cached.status_code == 200
    assert [run["conclusion"] for run in cached.json()["runs"]] == ["success"]
    assert cached.json()["stale"] is False
    assert never_loaded.status_code == 200
    assert never_loaded.json()["stale"] is True
    assert "rate limit" in never_loaded.json()["stale_reason"].lower()


def test_it_sends_nothing_while_rate_limited_and_serves_what_it_has(alice, github_sim):
    github_sim.trigger("acme/api", outcome="success")
    settle(github_sim)
    alice.get("/api/repos/acme/api")
    alice.get("/api/repos")  # makes every repository loaded but globex/legacy, which alice cannot see
    github_sim.change_installation(70002, "add-repos", repos=["globex/legacy"])
    github_sim.set_faults(rate_limit_exhausted=True)

    from runs.visibility import visibility_invalidate

    visibility_invalidate()
    refused = alice.get("/api/repos")
    github_sim.reset_counters()
    again = alice.get("/api/repos")

    assert refused.status_code == 200
    assert refused.json()["stale"] is True
    assert "globex/legacy" not in {repo["full_name"] for repo in refused.json()["repos"]}
    assert again.json()["stale"] is True
    assert _github_requests(github_sim) == 0  # nothing is sent until the limit resets


def test_it_serves_the_cache_through_github_errors_and_heals_after(alice, github_sim):
    github_sim.trigger("acme/api", outcome="success")
    settle(github_sim)
    alice.get("/api/repos")
    github_sim.trigger("acme/storefront", outcome="failure")
    settle(github_sim)
    _forget_loaded("acme/storefront")
    github_sim.set_faults(api_error_rate=1.0)

    during = alice.get("/api/repos/acme/storefront")
    github_sim.set_faults(api_error_rate=0.0)
    after = alice.get("/api/repos/acme/storefront")

    assert during.status_code == 200
    assert during.json()["stale"] is True
    assert after.json()["stale"] is False
    assert "failure" in [run["conclusion"] for run in after.json()["runs"]]


def test_it_reruns_and_cancels_in_the_simulator(alice, github_sim, settings):
    finished = github_sim.trigger("acme/api", "ci", outcome="failure")
    settle(github_sim)
    running = github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(1)
    alice.get("/api/repos/acme/api")

    rerun = alice.post(f"/api/repos/acme/api/runs/{finished.id}/rerun-failed-jobs")
    cancel = alice.post(f"/api/repos/acme/api/runs/{running.id}/cancel")
    github_sim.advance(0)

    assert (rerun.status_code, cancel.status_code) == (202, 202)
    truth = _truth_runs(github_sim, "acme/api")
    assert truth[finished.id]["run_attempt"] == 2
    assert (truth[running.id]["status"], truth[running.id]["conclusion"]) == ("completed", "cancelled")


def test_it_explains_githubs_refusal_to_a_user_without_write_access(bob, github_sim):
    run = github_sim.trigger("acme/api", "ci", outcome="failure")
    settle(github_sim)

    response = bob.post(f"/api/repos/acme/api/runs/{run.id}/rerun")

    assert response.status_code == 403
    assert "need write access to acme/api" in response.json()["error"]
    assert _truth_runs(github_sim, "acme/api")[run.id]["run_attempt"] == 1


def test_it_explains_that_a_completed_run_cannot_be_cancelled(alice, github_sim):
    run = github_sim.trigger("acme/api", "ci", outcome="success")
    settle(github_sim)

    response = alice.post(f"/api/repos/acme/api/runs/{run.id}/cancel")

    assert response.status_code == 409
    assert response.json()["error"].startswith("GitHub refused:")


def test_it_enforces_csrf_on_actions(dynamodb, github_sim):
    from django.test import Client

    from tests.plugins.github import sign_in

    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, "alice")

    assert browser.post("/api/repos/acme/api/runs/1/rerun").status_code == 403


def test_it_marks_api_responses_private(alice, github_sim):
    assert alice.get("/api/repos")["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.mark.parametrize(
    "path",
    [
        "/api/repos/globex/skunkworks",
        "/api/repos/globex/skunkworks/runs/{run}",
        "/api/repos/acme/payroll/runs/{run}",
        "/api/repos/globex/legacy",
    ],
)
def test_it_never_shows_another_users_private_repository_or_run(alice, dana, github_sim, path):
    skunk = github_sim.trigger("globex/skunkworks", outcome="success")
    payroll = github_sim.trigger("acme/payroll", outcome="success")
    settle(github_sim)
    viewer = alice if "skunkworks" in path or "legacy" in path else dana
    run = skunk.id if "skunkworks" in path else payroll.id

    response = viewer.get(path.format(run=run))

    assert response.status_code == 404
    assert viewer.post(path.format(run=run) + "/rerun").status_code == 404


def test_it_never_lists_another_users_private_repository(alice, dana, github_sim):
    alice_repos = {repo["full_name"] for repo in alice.get("/api/repos").json()["repos"]}
    dana_repos = {repo["full_name"] for repo in dana.get("/api/repos").json()["repos"]}

    assert "globex/skunkworks" not in alice_repos
    assert "acme/payroll" not in dana_repos


def test_it_does_not_leak_a_run_of_a_visible_repository_under_another_repository(alice, github_sim):
    payroll = github_sim.trigger("acme/payroll", outcome="success")
    settle(github_sim)
    alice.get("/api/repos")

    assert alice.get(f"/api/repos/acme/api/runs/{payroll.id}").status_code == 404


def test_it_answers_401_when_signed_out(client, dynamodb):
    for path in ("/api/user", "/api/repos", "/api/repos/acme/api", "/api/repos/acme/api/runs/1"):
        assert client.get(path).status_code == 401


def test_it_reports_the_users_rate_limit_budget(alice, github_sim):
    alice.get("/api/repos")

    body = alice.get("/api/user").json()

    assert body["user"]["login"] == "alice"
    assert body["github_rate_limit"]["limit"] == 5000
    assert 0 < body["github_rate_limit"]["remaining"] < 5000
    assert json.dumps(body).count("ghu_") == 0


def test_it_renews_an_unchanged_visibility_with_conditional_requests_only(alice, github_sim):
    from accounts.models import UserRecord
    from runs.visibility import visibility_epoch, visibility_refresh

    alice.get("/api/repos")
    github_sim.reset_counters()

    visibility = visibility_refresh(UserRecord.get(1001), visibility_epoch())

    assert "acme/api" in visibility.repos
    counts = github_sim.request_counts()
    assert counts["total"] == 3  # the installations, and each of the two installations' repositories
    assert counts["by_status"] == {"304": 3}


def test_it_sees_a_repository_added_to_an_installation_at_once(alice, github_sim):
    alice.get("/api/repos")

    github_sim.change_installation(70002, "add-repos", repos=["globex/legacy"])
    from runs.visibility import visibility_invalidate

    visibility_invalidate()  # what the installation_repositories webhook does

    assert "globex/legacy" in {repo["full_name"] for repo in alice.get("/api/repos").json()["repos"]}


def test_it_creates_one_installation_token_for_many_threads_at_once(dynamodb, github_sim):
    from concurrent.futures import ThreadPoolExecutor

    from dashboard.lib import github

    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = set(pool.map(lambda _: github.installation_token(70001), range(8)))

    assert len(tokens) == 1
    created = github_sim.request_counts()["by_route"]["POST /api/v3/app/installations/{installation_id}/access_tokens"]
    assert created == {"201": 1}


def test_it_serves_the_cache_through_github_timeouts_and_heals_after(alice, github_sim, settings):
    github_sim.trigger("acme/api", outcome="success")
    settle(github_sim)
    alice.get("/api/repos/acme/api")
    github_sim.trigger("acme/api", outcome="failure")
    settle(github_sim)
    _forget_loaded("acme/api")
    settings.GITHUB_TIMEOUT = 0.5
    github_sim.set_faults(api_timeout_rate=1.0, api_timeout_seconds=1.0)

    during = alice.get("/api/repos/acme/api")
    github_sim.set_faults(api_timeout_rate=0.0)
    after = alice.get("/api/repos/acme/api")

    assert during.status_code == 200
    assert (during.json()["stale"], [run["conclusion"] for run in during.json()["runs"]]) == (True, ["success"])
    assert after.json()["stale"] is False
    assert sorted(run["conclusion"] for run in after.json()["runs"]) == ["failure", "success"]


def test_it_shows_only_default_branch_runs_as_a_workflows_latest(alice, github_sim):
    github_sim.trigger("acme/api", "ci", outcome="success", branch="main")
    settle(github_sim)
    github_sim.trigger("acme/api", "ci", outcome="failure", branch="feature/checkout")
    settle(github_sim)

    repos = {repo["full_name"]: repo for repo in alice.get("/api/repos").json()["repos"]}

    latest = repos["acme/api"]["workflows"]
    assert [(run["head_branch"], run["conclusion"]) for run in latest] == [("main", "success")]


@pytest.mark.parametrize(
    "cursor",
    ["W10=", "ImFiYyI=", "eyJyZXBvSWQiOiB7IlMiOiAiZ2xvYmV4L3NrdW5rd29ya3MifSwgInJ1bklkIjogeyJOIjogIjEifX0=", "%%%"],
    ids=["a-list", "a-string", "another-repos-key", "not-base64"],
)
def test_it_answers_404_for_a_cursor_that_is_not_this_repositorys(alice, github_sim, cursor):
    assert alice.get("/api/repos/acme/api", {"cursor": cursor}).status_code == 404


def test_guessed_run_ids_cost_the_installation_nothing_and_each_guess_at_most_once(bob, github_sim):
    """A read-only user guessing run ids spends only their own GitHub budget, a bounded number of times."""
    bob.get("/api/repos")
    github_sim.reset_counters()
    guesses = [9_000_000 + n for n in range(60)]

    answers = [bob.get(f"/api/repos/acme/api/runs/{run_id}") for run_id in guesses]
    again = bob.get(f"/api/repos/acme/api/runs/{guesses[0]}")

    counts = github_sim.request_counts()["by_identity"]
    assert not any(identity.startswith("installation:") for identity in counts), counts
    assert sum(counts["bob"].values()) == LOOKUPS_PER_WINDOW  # one per guess, until the bound
    assert {answer.status_code for answer in answers[:LOOKUPS_PER_WINDOW]} == {404}
    assert {answer.status_code for answer in answers[LOOKUPS_PER_WINDOW:]} == {429}
    limited = answers[-1]
    assert "looked up" in limited.json()["error"]
    assert int(limited["Retry-After"]) > 0
    assert again.status_code == 404  # a miss is remembered: asked again, GitHub is not
    assert github_sim.request_counts()["by_identity"] == counts


def test_a_run_the_dashboard_does_not_know_yet_is_read_with_the_users_own_token(alice, github_sim):
    alice.get("/api/repos")  # backfilled before the run exists
    run = github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.reset_counters()

    assert alice.get(f"/api/repos/acme/api/runs/{run.id}").json()["run"]["id"] == run.id
    # The run itself is read with alice's token (its jobs, once, with the installation's, as for every run).
    assert sum(github_sim.request_counts()["by_identity"]["alice"].values()) == 1


@pytest.mark.parametrize("run_id", ["9" * 39, "1" + "0" * 59, "9223372036854775808", "0"])
@pytest.mark.parametrize(
    "template", ["/api/repos/acme/api/runs/{}", "/repos/acme/api/runs/{}", "/api/repos/acme/api/runs/{}/rerun"]
)
def test_it_answers_404_for_a_run_id_outside_githubs_range(alice, github_sim, run_id, template):
    method = alice.post if template.endswith("rerun") else alice.get
    response = method(template.format(run_id))
    assert response.status_code == 404
    if template.startswith("/api/"):
        assert response.json() == {"error": "Not found."}  # JSON, as the OpenAPI description has it
