"""Every DynamoDB table in infra/ matches its PynamoDB model, both ways, for both workspaces."""

import dataclasses

import pytest
from django.conf import settings

from dashboard.lib.dynamo import table_models
from dashboard.lib.tables import IndexSpec, table_spec
from devstack import terraform as generator
from tests.infra.conftest import INFRA, edit
from tests.infra.terraform import load, table_problems, terraform_tables

DATA_KEY = "${aws_kms_key.data.arn}"


def model_specs() -> dict:
    """Each model's spec, by the table's name without the stage prefix (`sessions`)."""
    specs = (table_spec(model) for model in table_models())
    return {spec.name.removeprefix(settings.DYNAMODB_TABLE_PREFIX): spec for spec in specs}


def problems(directory=INFRA, specs=None, workspace="prod"):
    return table_problems(
        directory,
        specs if specs is not None else model_specs(),
        workspace=workspace,
        prefix=f"actions-dashboard-{workspace}-",
        data_key=DATA_KEY,
    )


@pytest.mark.parametrize("workspace", ["dev", "prod"])
def test_every_table_matches_its_model(workspace):
    assert problems(workspace=workspace) == []


def test_it_declares_one_table_per_model():
    declared = terraform_tables(load(INFRA), workspace="dev")

    assert len(declared) == len(table_models()) == 11


def test_the_table_names_are_the_deployed_apps(run_manage):
    """Terraform's prefix for prod is the one the app computes for prod when nothing overrides it."""
    from tests.conftest import PRODUCTION_ENV

    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DYNAMODB_TABLE_PREFIX)",
        env={**PRODUCTION_ENV, "DYNAMODB_TABLE_PREFIX": "", "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9"},
    )
    assert result.returncode == 0, result.stderr
    prefix = result.stdout.strip().splitlines()[-1]

    assert prefix == "actions-dashboard-prod-"
    assert all(name.startswith(prefix) for name in terraform_tables(load(INFRA), workspace="prod"))


def test_the_committed_file_is_what_the_generator_writes():
    assert generator.OUTPUT.read_text() == generator.render(table_models(), settings.DYNAMODB_TABLE_PREFIX)


# --- Broken copies: a change on one side only is caught, and said plainly --------------------------------------


def _block(text: str, label: str) -> str:
    start = text.index(f'resource "aws_dynamodb_table" "{label}" {{')
    return text[start : text.index("\n}\n", start) + 3]


def break_table(copy, label: str, old: str, new: str) -> None:
    """Change `old` to `new` inside one table's block of a copy of infra/dynamodb.tf."""
    path = copy / "dynamodb.tf"
    text = path.read_text()
    block = _block(text, label)
    assert old in block, f"{old!r} is not in aws_dynamodb_table.{label}"
    path.write_text(text.replace(block, block.replace(old, new, 1)))


def test_it_fails_when_terraform_expires_items_by_another_attribute(infra_copy):
    break_table(infra_copy, "sessions", 'attribute_name = "expiresAt"', 'attribute_name = "expiry"')

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-sessions: the model expires items by expiresAt, Terraform's TTL attribute "
        "is expiry"
    ]


def test_it_fails_when_terraform_loses_a_ttl(infra_copy):
    break_table(infra_copy, "webhook_deliveries", "enabled        = true", "enabled        = false")

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-webhook-deliveries: the model expires items by expiresAt, Terraform's TTL "
        "attribute is None"
    ]


def test_it_fails_when_terraform_renames_an_index(infra_copy):
    break_table(infra_copy, "workflow_cache", '"active-status-index"', '"status-index"')

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-workflow-cache: index active-status-index is in the model but not in Terraform",
        "table actions-dashboard-prod-workflow-cache: index status-index is in Terraform but not in the model",
    ]


def test_it_fails_when_an_index_projects_other_attributes(infra_copy):
    break_table(infra_copy, "connections", '"KEYS_ONLY"', '"ALL"')

    found = problems(infra_copy)

    assert len(found) == 1
    assert found[0].startswith("table actions-dashboard-prod-connections: index userId-index differs")
    assert "projection='KEYS_ONLY'" in found[0]
    assert "projection='ALL'" in found[0]


def test_it_fails_when_a_key_changes_type(infra_copy):
    break_table(infra_copy, "users", 'type = "N"', 'type = "S"')

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-users: the model's hash_key is ('userId', 'N'), Terraform declares "
        "('userId', 'S')"
    ]


def test_it_fails_when_a_table_is_missing_from_terraform(infra_copy):
    path = infra_copy / "dynamodb.tf"
    text = path.read_text()
    path.write_text(text.replace(_block(text, "events"), ""))

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-events: a model declares it but Terraform has no aws_dynamodb_table named so"
    ]


def test_it_fails_when_terraform_has_a_table_no_model_declares(infra_copy):
    path = infra_copy / "dynamodb.tf"
    text = path.read_text()
    extra = _block(text, "users").replace('"users"', '"audit"', 1).replace("}users", "}audit")
    path.write_text(text + "\n" + extra)

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-audit: Terraform declares it (aws_dynamodb_table.audit) but no model"
    ]


def test_it_fails_without_point_in_time_recovery_or_encryption(infra_copy):
    edit(
        infra_copy / "dynamodb.tf",
        "point_in_time_recovery {\n    enabled = true",
        "point_in_time_recovery {\n    enabled = false",
    )
    break_table(infra_copy, "events", "kms_key_arn = aws_kms_key.data.arn", "kms_key_arn = aws_kms_key.tokens.arn")

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-connections: point-in-time recovery is not enabled",
        "table actions-dashboard-prod-events: not encrypted with the stage's KMS key (${aws_kms_key.data.arn})",
    ]


def test_it_fails_when_a_model_gains_an_index_terraform_lacks():
    specs = model_specs()
    runs = specs["workflow-cache"]
    index = IndexSpec("branch-index", ("headBranch", "S"), ("updatedAt", "S"), "KEYS_ONLY")
    specs["workflow-cache"] = dataclasses.replace(runs, indexes=(*runs.indexes, index))

    assert problems(specs=specs) == [
        "table actions-dashboard-prod-workflow-cache: index branch-index is in the model but not in Terraform"
    ]


def test_it_fails_when_a_model_changes_its_ttl_attribute():
    specs = model_specs()
    specs["events"] = dataclasses.replace(specs["events"], ttl_attribute="deleteAt")

    assert problems(specs=specs) == [
        "table actions-dashboard-prod-events: the model expires items by deleteAt, Terraform's TTL attribute is "
        "expiresAt"
    ]


# --- Streams: the events table's feeds the stream function (infra/stream.tf) --------------------------------------


def test_terraform_streams_the_events_table_as_its_model_declares():
    declared = terraform_tables(load(INFRA), workspace="prod")
    streams = {name: spec.stream_view_type for name, (_, spec, _) in declared.items() if spec.stream_view_type}

    assert streams == {"actions-dashboard-prod-events": "NEW_IMAGE"}
    assert model_specs()["events"].stream_view_type == "NEW_IMAGE"


def test_it_fails_when_terraform_loses_the_events_stream(infra_copy):
    break_table(infra_copy, "events", "stream_enabled              = true", "stream_enabled              = false")

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-events: the model streams NEW_IMAGE, Terraform streams None"
    ]


def test_it_fails_when_terraform_streams_another_view(infra_copy):
    break_table(infra_copy, "events", '"NEW_IMAGE"', '"NEW_AND_OLD_IMAGES"')

    assert problems(infra_copy) == [
        "table actions-dashboard-prod-events: the model streams NEW_IMAGE, Terraform streams NEW_AND_OLD_IMAGES"
    ]


def test_it_fails_when_a_model_gains_a_stream_terraform_lacks():
    specs = model_specs()
    specs["sessions"] = dataclasses.replace(specs["sessions"], stream_view_type="KEYS_ONLY")

    assert problems(specs=specs) == [
        "table actions-dashboard-prod-sessions: the model streams KEYS_ONLY, Terraform streams None"
    ]


def test_the_generator_writes_a_stream_only_for_a_model_that_declares_one():
    events = "\n".join(generator.render_table(model_specs()["events"], short_name="events", model_path="m"))
    sessions = "\n".join(generator.render_table(model_specs()["sessions"], short_name="sessions", model_path="m"))

    assert '  stream_enabled              = true\n  stream_view_type            = "NEW_IMAGE"\n' in events
    assert "stream" not in sessions
