from datetime import UTC, datetime

from accounts.models import UserRecord
from dashboard.lib.dynamo import shared_client, table_models
from runs.models import WorkflowRun


def test_it_gives_every_model_the_one_shared_client():
    clients = {id(model._get_connection().connection.client) for model in table_models()}

    assert clients == {id(shared_client())}


def test_it_applies_the_short_timeouts_and_bounded_retries_from_settings(settings):
    config = shared_client().meta.config

    assert config.connect_timeout == settings.DYNAMODB_CONNECT_TIMEOUT
    assert config.read_timeout == settings.DYNAMODB_READ_TIMEOUT
    assert config.retries["total_max_attempts"] == 1 + settings.DYNAMODB_MAX_RETRIES
    assert shared_client().meta.endpoint_url == settings.DYNAMODB_ENDPOINT_URL


def test_it_round_trips_a_model_through_dynamodb_local(dynamodb):
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    UserRecord(user_id=583231, login="octocat", name="The Octocat", created_at=now, updated_at=now).save()

    stored = UserRecord.get(583231)

    assert (stored.login, stored.name, stored.created_at) == ("octocat", "The Octocat", now)


def test_it_keeps_completed_runs_out_of_the_active_index(dynamodb):
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    WorkflowRun(repo_id="acme/api", run_id=1, status="completed", updated_at=now).save()
    WorkflowRun(repo_id="acme/api", run_id=2, status="in_progress", active_status="in_progress", updated_at=now).save()

    active = list(WorkflowRun.active.query("in_progress"))

    assert [run.run_id for run in active] == [2]
