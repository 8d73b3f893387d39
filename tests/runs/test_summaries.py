"""The one shape of a stored run summary (runs/summaries.py): stored, read back and shown alike, and described by
the OpenAPI schema field for field."""

import json

from runs.openapi import SCHEMAS
from runs.states import RunState
from runs.summaries import RunSummary, shown_fields
from tests.fixtures import github_fixture


def _state(**changes) -> RunState:
    run = json.loads(github_fixture("webhooks/workflow_run.completed.json").read_text())["workflow_run"]
    run.update(changes)
    return RunState.from_github(run, repository={"full_name": "octo-org/octo-repo", "default_branch": "main"})


def test_the_openapi_schema_describes_exactly_the_fields_a_summary_shows():
    schema = SCHEMAS["RunSummary"]

    assert list(schema["properties"]) == shown_fields()
    assert schema["required"] == shown_fields()


def test_what_is_shown_is_every_field_but_the_caches_own():
    summary = RunSummary.from_state(_state())

    assert list(summary.as_json()) == shown_fields()
    assert "order" not in summary.as_json()
    assert summary.as_json()["actor"] == summary.actor
    assert summary.as_json()["updated_at"] == summary.updated_at.isoformat()


def test_a_stored_summary_reads_back_as_it_was_stored():
    summary = RunSummary.from_state(_state(head_repository={"full_name": "someone/fork"}))

    assert RunSummary.from_item(json.dumps(summary.to_item())) == summary
    assert summary.head_repository == "someone/fork"


def test_a_summary_stores_no_nulls_and_keeps_its_first_item_names():
    item = RunSummary.from_state(_state(conclusion=None, status="in_progress")).to_item()

    assert None not in item.values()
    assert {"runId", "actorLogin", "ord"} <= set(item)
    assert "conclusion" not in item


def test_it_reads_summaries_written_before_fields_were_added():
    # A map, as the first summaries were stored, without the fields added since (actorType, runStartedAt, ...).
    old = {"runId": 7, "workflowId": 3, "status": "completed", "conclusion": "success", "actorLogin": "octocat"}

    summary = RunSummary.from_item(old)

    assert (summary.run_id, summary.workflow_id, summary.actor, summary.category) == (7, 3, "octocat", "success")
    assert summary.run_attempt == 1
    assert summary.actor_type is None
    assert summary.run_started_at is None
    assert summary.order == ""
