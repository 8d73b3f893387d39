"""Payload fidelity: every webhook validates against GitHub's schema; REST bodies carry GitHub's example fields."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ghsim.testing import running_simulator
from tests.fixtures import github_fixture
from tests.ghsim.conftest import INSTALLATION_CHANGES, START, Api, finish

EMITTED = {
    ("workflow_run", "requested"),
    ("workflow_run", "in_progress"),
    ("workflow_run", "completed"),
    ("workflow_job", "queued"),
    ("workflow_job", "waiting"),
    ("workflow_job", "in_progress"),
    ("workflow_job", "completed"),
    ("installation", "created"),
    ("installation", "deleted"),
    ("installation", "suspend"),
    ("installation", "unsuspend"),
    ("installation", "new_permissions_accepted"),
    ("installation_repositories", "added"),
    ("installation_repositories", "removed"),
    ("github_app_authorization", "revoked"),
    ("ping", None),
}


@pytest.fixture(scope="module")
def long_run():
    """A simulated hour of seeded activity plus every installation change, as received by a webhook endpoint."""
    with running_simulator(seed=2024, start_time=START, run_interval=12, ping=True) as sim:
        sim.advance(3600)
        for action, repos in INSTALLATION_CHANGES:
            sim.change_installation(70002, action, repos=repos)
        sim.revoke("bob")
        yield sim, list(sim.receiver.received)


def test_it_emits_every_event_and_action_over_a_long_run(long_run):
    _, received = long_run
    assert {(item.event, item.action) for item in received} == EMITTED


def test_it_sends_payloads_that_validate_against_githubs_schemas(long_run, webhook_validator):
    _, received = long_run
    problems = Counter()
    for item in received:
        for error in webhook_validator(item.event, item.action).iter_errors(item.payload):
            problems[(item.event, item.action, error.json_path, error.message[:120])] += 1
    assert not problems, problems.most_common(10)


def test_it_covers_failures_cancels_skips_and_waiting_jobs(long_run):
    _, received = long_run
    conclusions = {item.payload["workflow_job"]["conclusion"] for item in received if item.event == "workflow_job"}
    assert {"success", "failure", "cancelled", "skipped", None} <= conclusions
    runs = {item.payload["workflow_run"]["conclusion"] for item in received if item.event == "workflow_run"}
    assert {"success", "failure", "cancelled"} <= runs
    actors = {item.payload["workflow_run"]["actor"]["type"] for item in received if item.event == "workflow_run"}
    assert actors == {"User", "Bot"}


# Objects whose keys are data, not fields: an app's permissions differ from the example app's.
DATA_MAPS = {"permissions", "custom_properties"}


def missing_fields(example, actual, path: str = "") -> list[str]:
    """Paths of fields in GitHub's example that the actual value lacks (lists compare their first items)."""
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [path or "."]
        found = []
        for key, value in example.items():
            if key not in actual:
                found.append(f"{path}.{key}")
            elif actual[key] is not None and key not in DATA_MAPS:
                found += missing_fields(value, actual[key], f"{path}.{key}")
        return found
    if isinstance(example, list) and example and isinstance(actual, list) and actual:
        return missing_fields(example[0], actual[0], f"{path}[0]")
    return []


@pytest.mark.parametrize(
    ("event", "action", "example"),
    [
        ("workflow_run", "requested", "workflow_run.requested.json"),
        ("workflow_run", "completed", "workflow_run.completed.json"),
        ("workflow_job", "queued", "workflow_job.queued.json"),
        ("workflow_job", "waiting", "workflow_job.waiting.json"),
        ("workflow_job", "in_progress", "workflow_job.in_progress.json"),
        ("workflow_job", "completed", "workflow_job.completed.success.with-organization.json"),
        ("installation", "created", "installation.created.json"),
        ("installation", "deleted", "installation.deleted.json"),
        ("installation", "suspend", "installation.suspend.json"),
        ("installation", "unsuspend", "installation.unsuspend.json"),
        ("installation", "new_permissions_accepted", "installation.new_permissions_accepted.json"),
        ("installation_repositories", "added", "installation_repositories.added.json"),
        ("installation_repositories", "removed", "installation_repositories.removed.json"),
        ("github_app_authorization", "revoked", "github_app_authorization.revoked.json"),
    ],
)
def test_it_sends_every_field_of_githubs_webhook_example(long_run, event, action, example):
    _, received = long_run
    expected = json.loads(github_fixture(f"webhooks/{example}").read_text())
    payloads = [item.payload for item in received if (item.event, item.action) == (event, action)]
    assert payloads
    assert missing_fields(expected, payloads[-1]) == []


def test_it_builds_workflow_run_in_progress_from_the_requested_example(long_run):
    _, received = long_run
    requested = json.loads(github_fixture("webhooks/workflow_run.requested.json").read_text())
    in_progress = next(
        item.payload for item in received if item.event == "workflow_run" and item.action == "in_progress"
    )
    assert list(in_progress["workflow_run"]) == list(requested["workflow_run"])
    assert in_progress["workflow_run"]["status"] == "in_progress"


@pytest.fixture(scope="module")
def finished_world():
    """A simulator with a completed pull-request run and a narrowed installation token, for REST bodies."""
    with running_simulator(seed=9, start_time=START) as sim:
        run = sim.trigger("acme/api", "ci", event="pull_request", branch="feature/checkout", outcome="success")
        finish(sim, run.id)
        yield sim, run


@pytest.mark.parametrize(
    ("path", "example", "pick"),
    [
        ("/repos/acme/api/actions/runs", "rest/actions/list-workflow-runs-for-repo.200.json", None),
        ("/repos/acme/api/actions/runs/{run}", "rest/actions/get-workflow-run.200.json", None),
        ("/repos/acme/api/actions/runs/{run}/jobs", "rest/actions/list-jobs-for-workflow-run.200.json", None),
        ("/repos/acme/api/actions/jobs/{job}", "rest/actions/get-job-for-workflow-run.200.json", None),
        ("/repos/acme/api/actions/workflows", "rest/actions/list-repo-workflows.200.json", None),
        ("/repos/acme/api/actions/workflows/{workflow}", "rest/actions/get-workflow.200.json", None),
        ("/user", "rest/users/get-authenticated.200.json", None),
        ("/user/installations", "rest/apps/list-installations-for-authenticated-user.200.json", None),
        ("/user/installations/70001/repositories", "rest/apps/list-repos-accessible-to-installation.200.json", None),
        ("/rate_limit", "rest/rate-limit/get.200.json", None),
        ("/repos/acme/nope", "rest/errors/not-found.404.json", 404),
    ],
)
def test_it_answers_rest_with_every_field_of_githubs_example(finished_world, path, example, pick):
    sim, run = finished_world
    api = Api(sim, sim.user_token("alice"))
    path = path.format(run=run.id, job=run.jobs[-1].id, workflow=run.workflow_id)
    response = api.get(path)
    assert response.status_code == (pick or 200)
    assert missing_fields(json.loads(github_fixture(example).read_text()), response.json()) == []


def test_it_answers_installation_endpoints_with_every_field_of_githubs_example(finished_world):
    sim, _ = finished_world
    app = Api(sim)
    app.session.headers["Authorization"] = f"Bearer {sim.app_jwt()}"
    created = app.post("/app/installations/70001/access_tokens", json={"repositories": ["api"]})
    assert created.status_code == 201
    example = json.loads(github_fixture("rest/apps/create-installation-access-token.201.json").read_text())
    assert missing_fields(example, created.json()) == []
    listing = Api(sim, created.json()["token"]).get("/installation/repositories")
    example = json.loads(github_fixture("rest/apps/list-repos-accessible-to-installation.200.json").read_text())
    assert missing_fields(example, listing.json()) == []
    assert [repo["full_name"] for repo in listing.json()["repositories"]] == ["acme/api"]
