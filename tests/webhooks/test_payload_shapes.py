"""Signed payloads of an unexpected shape: every single-field type change of GitHub's own payloads is answered
4xx (naming the field) or applied, never 5xx, and a refused one changes nothing."""

import copy
import json

import pytest

from runs.models import WorkflowJob, WorkflowRun
from tests.webhooks.conftest import github_payload

PAYLOADS = [
    "workflow_run.requested.json",
    "workflow_run.completed.json",
    "workflow_job.queued.json",
    "workflow_job.waiting.json",
    "workflow_job.in_progress.json",
    "workflow_job.completed.success.with-organization.json",
]


def _paths(value, path=()):
    """Every field of a payload, depth first, as a path of keys and list indices."""
    if path:
        yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


def _other_type(value):
    """A value of another JSON type than `value`, as an unexpected API change might send."""
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 1700000000
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return {"items": value}
    return {"unexpected": "object"}  # null


def _changed(payload: dict, path: tuple):
    changed = copy.deepcopy(payload)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = _other_type(parent[path[-1]])
    return changed


def _stored():
    return sorted(
        json.dumps(item.attribute_values, default=str) for model in (WorkflowRun, WorkflowJob) for item in model.scan()
    )


@pytest.mark.parametrize("name", PAYLOADS)
def test_every_single_field_type_change_is_refused_by_name_or_applied_never_a_server_error(deliver, dynamodb, name):
    payload = json.loads(github_payload(name))
    event = name.split(".")[0]
    failures, refused = [], 0
    for path in _paths(payload):
        before = _stored()
        response = deliver(event, _changed(payload, path))
        where = ".".join(str(key) for key in path)
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
        elif response.status_code == 400:
            refused += 1
            message = response.json()["error"]
            assert "shape of this event" in message, (where, message)
            assert _stored() == before, f"{where}: a refused delivery changed what is stored"
    assert not failures, f"{len(failures)} server errors: {failures[:20]}"
    assert refused, "no change was refused: the test proves nothing"


def test_a_refusal_names_the_field_and_its_expected_type(deliver, dynamodb):
    payload = json.loads(github_payload("workflow_run.completed.json"))
    payload["workflow_run"]["created_at"] = 1700000000
    payload["workflow"] = "CI"

    response = deliver("workflow_run", payload)

    assert response.status_code == 400
    assert "workflow should be an object, not a string" in response.json()["error"]
    payload["workflow"] = {"name": "CI"}
    assert (
        "workflow_run.created_at should be a string, not a number" in deliver("workflow_run", payload).json()["error"]
    )


def test_a_name_no_page_could_render_is_refused(deliver, dynamodb):
    """A lone surrogate ("\\ud800" in the JSON) cannot be encoded as UTF-8: refused before it is stored."""
    body = github_payload("workflow_run.completed.json").replace(b'"head_branch": "', b'"head_branch": "\\ud800', 1)

    response = deliver("workflow_run", body)

    assert response.status_code == 400
    assert "workflow_run.head_branch should be valid Unicode text" in response.json()["error"]
    assert _stored() == []


def test_an_empty_required_timestamp_is_refused_by_name(deliver, dynamodb):
    """`updated_at` orders every state of a run: an empty one is no timestamp, refused before anything is stored."""
    payload = json.loads(github_payload("workflow_run.completed.json"))
    payload["workflow_run"]["updated_at"] = ""

    response = deliver("workflow_run", payload)

    assert response.status_code == 400
    assert "workflow_run.updated_at should be a timestamp" in response.json()["error"]
    assert _stored() == []
