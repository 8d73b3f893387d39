"""GitHub's own payloads, really signed, change the cache as they should, once, in any order."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.models import SessionRecord, UserRecord
from accounts.sessions import SessionStore, session_key_hash
from realtime.models import Event
from runs.visibility import visibility_epoch
from tests.webhooks.conftest import github_payload
from webhooks.models import WebhookDelivery

PAYLOAD_REPOS = ["octo-org/octo-repo", "Codertocat/Hello-World", "lineville/elastic-machines-testing"]


@pytest.fixture
def viewer(dynamodb):
    """A signed-in user whose kept visibility includes the repositories of GitHub's example payloads."""
    now = datetime.now(UTC)
    repos = {
        name: {
            "full_name": name,
            "id": index,
            "private": False,
            "default_branch": "main",
            "html_url": f"https://github.com/{name}",
            "installation_id": 1,
            "can_write": True,
        }
        for index, name in enumerate(PAYLOAD_REPOS, start=1)
    }
    UserRecord(
        user_id=583231,
        login="octocat",
        created_at=now,
        updated_at=now,
        visible_repos=json.dumps(repos),
        visible_at=now,
        visibility_epoch=visibility_epoch(),
    ).save()
    browser = Client()
    browser.force_login(__import__("accounts.models").models.GitHubUser(id=583231, login="octocat"))
    return browser


def _events():
    return [json.loads(event.data) for event in Event.scan()]


def test_it_stores_a_workflow_run_and_shows_it_through_the_api(deliver, viewer):
    assert deliver("workflow_run", github_payload("workflow_run.requested.json")).json()["outcome"] == "applied"
    assert deliver("workflow_run", github_payload("workflow_run.completed.json")).json()["outcome"] == "applied"

    run = viewer.get("/api/repos/octo-org/octo-repo/runs/289782451").json()["run"]

    completed = json.loads(github_payload("workflow_run.completed.json"))["workflow_run"]
    assert (run["status"], run["conclusion"], run["run_number"]) == (
        completed["status"],
        completed["conclusion"],
        completed["run_number"],
    )
    assert [event["status"] for event in _events() if event["kind"] == "run"].count("completed") == 1


def test_it_keeps_completed_when_the_requested_delivery_arrives_late(deliver, viewer):
    deliver("workflow_run", github_payload("workflow_run.completed.json"))

    late = deliver("workflow_run", github_payload("workflow_run.requested.json"))

    assert late.json()["outcome"] == "stale"
    assert viewer.get("/api/repos/octo-org/octo-repo/runs/289782451").json()["run"]["status"] == "completed"
    assert len(_events()) == 1


@pytest.mark.parametrize(
    "name",
    [
        "workflow_job.queued.json",
        "workflow_job.waiting.json",
        "workflow_job.in_progress.json",
        "workflow_job.completed.success.with-organization.json",
    ],
)
def test_it_stores_each_workflow_job(deliver, viewer, name):
    payload = json.loads(github_payload(name))
    job = payload["workflow_job"]

    assert deliver("workflow_job", github_payload(name)).json()["outcome"] == "applied"

    from runs.models import WorkflowJob

    stored = WorkflowJob.get(f"{payload['repository']['full_name']}#{job['run_id']}", job["id"])
    assert (stored.status, stored.conclusion, len(stored.steps)) == (
        job["status"],
        job["conclusion"],
        len(job["steps"]),
    )
    # Its announcement carries the job's state and order, not its steps: no page reads them from a change.
    (announced,) = _events()
    assert (announced["kind"], announced["run_id"], announced["id"]) == ("job", job["run_id"], job["id"])
    assert (announced["status"], announced["order"]) == (job["status"], stored.order)
    assert "steps" not in announced


@pytest.mark.parametrize(
    "name",
    [
        "installation.created.json",
        "installation.deleted.json",
        "installation.new_permissions_accepted.json",
        "installation.suspend.json",
        "installation.unsuspend.json",
        "installation_repositories.added.json",
        "installation_repositories.removed.json",
    ],
)
def test_it_makes_every_kept_visibility_stale_on_an_installation_event(deliver, viewer, name):
    before = visibility_epoch()
    event = name.split(".")[0]

    assert deliver(event, github_payload(name)).json()["outcome"] == "applied"

    assert visibility_epoch() == before + 1


def test_it_ends_the_users_sessions_when_the_authorization_is_revoked(deliver, dynamodb):
    payload = json.loads(github_payload("github_app_authorization.revoked.json"))
    user_id = payload["sender"]["id"]
    now = datetime.now(UTC)
    UserRecord(user_id=user_id, login=payload["sender"]["login"], created_at=now, updated_at=now).save()
    session = SessionStore()
    session["_auth_user_id"] = str(user_id)
    session.save()

    assert (
        deliver("github_app_authorization", github_payload("github_app_authorization.revoked.json")).status_code == 200
    )

    assert not SessionRecord.count(session_key_hash(session.session_key))


def test_it_answers_ping(deliver, dynamodb):
    response = deliver("ping", github_payload("ping.json"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "pong"


def test_it_changes_nothing_for_a_delivery_seen_before(deliver, viewer):
    delivery_id = str(uuid.uuid4())

    first = deliver("workflow_run", github_payload("workflow_run.completed.json"), delivery_id=delivery_id)
    again = deliver("workflow_run", github_payload("workflow_run.completed.json"), delivery_id=delivery_id)

    assert (first.json()["outcome"], again.json()["outcome"]) == ("applied", "duplicate")
    assert again.status_code == 200
    assert len(_events()) == 1


def test_it_applies_fifty_simultaneous_copies_of_a_delivery_once(deliver, viewer, dynamodb, stream_lambda):
    delivery_id = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(
            pool.map(
                lambda _: deliver(
                    "workflow_run", github_payload("workflow_run.completed.json"), delivery_id=delivery_id
                ).json()["outcome"],
                range(50),
            )
        )

    assert outcomes.count("applied") == 1
    assert set(outcomes) == {"applied", "duplicate"}
    assert len(stream_lambda.records()) == 1  # what the stream carries on to the browsers: one change
    assert len(_events()) == 1
    assert WebhookDelivery.count() == 1


def _run_delivery(*, run_id, conclusion, fork=None, event="push"):
    """GitHub's own completed `workflow_run`, as a run of the default branch, or of a fork's branch of that name."""
    payload = json.loads(github_payload("workflow_run.completed.json"))
    run = payload["workflow_run"]
    run.update(id=run_id, run_number=run_id, conclusion=conclusion, event=event, head_branch="main")
    payload["repository"]["default_branch"] = "main"  # as the viewer's kept visibility has it
    if fork:
        run["head_repository"] = {**run["head_repository"], "full_name": fork, "fork": True}
    return payload


def test_it_leaves_the_default_branch_status_alone_for_a_forks_pull_request_from_a_branch_so_named(deliver, viewer):
    from xml.etree import ElementTree

    deliver("workflow_run", _run_delivery(run_id=1001, conclusion="success"))
    forked = _run_delivery(run_id=1002, conclusion="failure", fork="mallory/octo-repo", event="pull_request")
    assert deliver("workflow_run", forked).json()["outcome"] == "applied"

    overview = viewer.get("/overview.json").json()
    (repo,) = [repo for repo in overview["repos"] if repo["full_name"] == "octo-org/octo-repo"]
    assert [(run["run_id"], run["state"]) for run in repo["latest"]] == [(1001, "success")]
    assert 1002 not in [run["run_id"] for run in repo["history"]]
    projects = ElementTree.fromstring(viewer.get("/cctray.xml").content)  # noqa: S314 (our own feed)
    statuses = {project.get("lastBuildStatus") for project in projects if "octo-org/octo-repo" in project.get("name")}
    assert statuses == {"Success"}
    # The repository page shows the fork's run under every branch, not under `main`; the API says whose it is.
    assert "/runs/1002" not in viewer.get("/repos/octo-org/octo-repo", {"branch": "main"}).content.decode()
    assert "/runs/1002" in viewer.get("/repos/octo-org/octo-repo", {"branch": "*"}).content.decode()
    runs = viewer.get("/api/repos/octo-org/octo-repo").json()["runs"]
    assert [(run["id"], run["on_default_branch"], run["head_repository"]) for run in runs] == [
        (1002, False, "mallory/octo-repo"),
        (1001, True, None),
    ]
