"""The simulator's webhooks, with its faults switched on, delivered to the live app over HTTP.

Afterwards every run and job in DynamoDB equals the simulator's truth, and each change was announced once.
"""

import json
import random
import socket
from datetime import UTC, datetime, timedelta

import botocore.client
import botocore.session
import pytest

from dashboard.lib import dynamo
from dashboard.lib.dynamo import table_models
from dashboard.reconciliation import reconcile
from realtime.models import Event
from runs.models import WorkflowJob, WorkflowRun
from tests.runs.conftest import settle
from tests.webhooks.conftest import github_payload
from webhooks import views

REPOS = ["acme/storefront", "acme/api", "acme/payroll", "globex/engine", "globex/data-pipeline"]


@pytest.fixture
def hooked(github_sim, live_app, settings):
    """The simulator delivering its webhooks to the live app, with the app's secret."""
    github_sim.set_hook(url=f"{live_app}/webhooks/github", secret=settings.GITHUB_WEBHOOK_SECRET)
    return github_sim


def busy_hour(sim, *, seed=7, minutes=60):
    rng = random.Random(seed)
    for minute in range(minutes):
        if minute % 2 == 0:
            sim.trigger(rng.choice(REPOS), outcome=rng.choice(["success", "failure", "flaky"]))
        sim.advance(60)


def assert_cache_equals_truth(sim):
    truth = sim.truth()["runs"]
    assert truth
    for run in truth:
        stored = WorkflowRun.get(run["repository"], run["id"])
        assert (stored.status, stored.conclusion, stored.run_attempt) == (
            run["status"],
            run["conclusion"],
            run["run_attempt"],
        ), run["id"]
        jobs = {job.job_id: job for job in WorkflowJob.query(f"{run['repository']}#{run['id']}")}
        for job in run["jobs"]:
            assert (jobs[job["id"]].status, jobs[job["id"]].conclusion) == (job["status"], job["conclusion"]), job


def assert_each_change_announced_once(sim):
    seen = set()
    for event in Event.scan():
        data = json.loads(event.data)
        state = (
            data["kind"],
            data["id"],
            data["run_attempt"],
            data["status"],
            data["conclusion"],
            data.get("updated_at"),
        )
        if data["kind"] == "job":
            state += (data["order"],)  # the merge rule's order: steps' progress included
        assert state not in seen, f"announced twice: {state}"
        seen.add(state)
    announced = {(kind, id_, status, conclusion) for kind, id_, _, status, conclusion, *_ in seen}
    for run in sim.truth()["runs"]:
        assert ("run", run["id"], run["status"], run["conclusion"]) in announced, f"never announced: {run['id']}"


def assert_summaries_equal_truth(sim) -> None:
    """Each workflow's latest default-branch run, as the overview shows it, is GitHub's latest in GitHub's state."""
    from runs.serializers import repo_json
    from runs.summaries import summaries_read
    from runs.visibility import RepoAccess

    latest: dict[tuple[str, str], dict] = {}
    for run in sim.truth()["runs"]:
        key = (run["repository"], run["workflow"])
        if run["head_branch"] == "main" and (key not in latest or run["run_number"] > latest[key]["run_number"]):
            latest[key] = run
    assert latest, "no default-branch run: the check proves nothing"
    repos = sorted({repo for repo, _ in latest})
    summaries = summaries_read(repos)
    shown = {}
    for repo in repos:
        access = RepoAccess(repo, 0, True, "main", "", 0, False)
        for workflow in repo_json(access, summaries.get(repo, {}))["workflows"]:
            shown[(repo, workflow["workflow_name"])] = workflow
    for key, run in latest.items():
        assert key in shown, f"no summary for {key}"
        workflow = shown[key]
        assert (workflow["run_id"], workflow["run_attempt"], workflow["status"], workflow["conclusion"]) == (
            run["id"],
            run["run_attempt"],
            run["status"],
            run["conclusion"],
        ), key


def test_it_ends_equal_to_github_after_a_storm_of_duplicates_and_reordering(hooked):
    hooked.set_faults(duplicate_rate=0.3, reorder_window=120)

    busy_hour(hooked)
    settle(hooked)
    hooked.set_faults(duplicate_rate=0.0, reorder_window=0.0)
    hooked.advance(180)  # deliveries held back by the reordering window go out

    deliveries = hooked.deliveries()
    assert len({delivery.guid for delivery in deliveries}) < len(deliveries), "the storm had no duplicates"
    assert all(delivery.status_code == 200 for delivery in deliveries)
    assert_cache_equals_truth(hooked)
    assert_summaries_equal_truth(hooked)
    assert_each_change_announced_once(hooked)


def test_it_heals_a_webhook_outage_by_reconciliation(hooked):
    for repo in REPOS[:3]:
        hooked.trigger(repo, outcome="success", branch="main")
    hooked.advance(60)
    start = hooked.now()
    hooked.set_faults(outage_start=start, outage_end=start + 900)
    settle(hooked)  # the runs finish while every delivery fails
    hooked.advance(900)
    stuck = [run for run in WorkflowRun.scan() if run.status != "completed"]
    assert stuck, "the outage lost nothing: the test proves nothing"

    report = reconcile(older_than=timedelta(0), now=datetime.fromtimestamp(hooked.now(), UTC))
    hooked.advance(0)  # redeliveries go out

    assert report.runs_repaired >= len(stuck)
    assert report.deliveries_redelivered > 0
    assert_cache_equals_truth(hooked)
    assert_summaries_equal_truth(hooked)


@pytest.fixture
def hanging_dynamodb():
    """Every table's client pointed at a server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    session = botocore.session.get_session()
    session.set_credentials("local", "local")
    hanging = session.create_client(
        "dynamodb",
        "eu-west-2",
        endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
        config=botocore.client.Config(connect_timeout=1, read_timeout=5, retries={"total_max_attempts": 1}),
    )
    connections = [model._get_connection().connection for model in table_models()]
    real = dynamo.shared_client()
    for connection in connections:
        connection._client = hanging
    dynamo._client = hanging
    yield
    for connection in connections:
        connection._client = real
    dynamo._client = real
    listener.close()


def test_it_answers_within_its_budget_when_dynamodb_hangs(dynamodb, deliver, hanging_dynamodb, monkeypatch):
    monkeypatch.setattr(views, "BUDGET_SECONDS", 0.5)

    response = deliver("workflow_run", github_payload("workflow_run.completed.json"))

    assert response.status_code == 202
    assert response.json()["outcome"] == "accepted"
