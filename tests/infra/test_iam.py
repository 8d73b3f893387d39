"""Least privilege, checked on the HCL: each function's role grants exactly what its code calls, nothing is `*`."""

import json

import pytest

from devstack.package import FUNCTIONS
from tests.conftest import ROOT
from tests.infra.conftest import INFRA, edit
from tests.infra.terraform import expected_problems, grants, load, statements, wildcard_problems

ITEM = {
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
}
# Tables with a global secondary index, which a Query on the index needs granted on `table/index/*`.
INDEXED = {"connections", "sessions", "workflow_cache"}
ALL_TABLES = {
    "connections", "events", "github_state", "repo_summaries", "sessions", "subscriptions", "user_settings",
    "users", "webhook_deliveries", "workflow_cache", "workflow_jobs",
}  # fmt: skip


def _items(tables: set[str]) -> dict[str, set[str]]:
    return {table: ITEM | ({f"{action}@index" for action in ITEM} if table in INDEXED else set()) for table in tables}


# What Lambda's event source mapping reads a DynamoDB stream with, using the function's role.
STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
# A connection found gone on a post is forgotten with its subscriptions (realtime/gateway.py: connection_forget).
FORGET = {"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"}
SOCKETS = "${aws_apigatewayv2_api.ws.execution_arn}/${local.websocket_stage}"


def _logs(function: str) -> set[str]:
    return {
        f"logs:CreateLogStream on ${{aws_cloudwatch_log_group.{function}.arn}}:*",
        f"logs:PutLogEvents on ${{aws_cloudwatch_log_group.{function}.arn}}:*",
    }


def _others(function: str) -> set[str]:
    return {
        "kms:Decrypt on ${aws_kms_key.tokens.arn}",
        "kms:GenerateDataKey on ${aws_kms_key.tokens.arn}",
        "ssm:GetParametersByPath on ${local.ssm_path_arn}",
        f"execute-api:ManageConnections on {SOCKETS}/POST/@connections/*",
        f"execute-api:ManageConnections on {SOCKETS}/DELETE/@connections/*",
        *_logs(function),
    }


def _stream_needs() -> dict[str, set[str]]:
    """The stream function (pipeline/lambda_stream.py): reads its stream and the events, posts each change to the
    subscribed sockets, forgets the gone ones; Lambda parks what fails in the failure queue with the same role."""
    return {
        "events": {"dynamodb:Query", *{f"{action}@stream" for action in STREAM_READ}},
        "subscriptions": {"dynamodb:Query", *FORGET},  # realtime/gateway.py: fan_out
        "connections": set(FORGET),
        "other:": {
            "ssm:GetParametersByPath on ${local.ssm_path_arn}",
            f"execute-api:ManageConnections on {SOCKETS}/POST/@connections/*",  # posting only, never closing
            "sqs:SendMessage on ${aws_sqs_queue.stream_failures.arn}",
            # The failure queue's encryption, through SQS only (test_the_stream_role_uses_the_data_key_through_sqs_only)
            "kms:Decrypt on ${aws_kms_key.data.arn}",
            "kms:GenerateDataKey on ${aws_kms_key.data.arn}",
            *_logs("stream"),
        },
    }


def needs(function: str) -> dict[str, set[str]]:
    """What each function's code calls: the second source of truth the policies are held against."""
    if function == "stream":
        return _stream_needs()
    if function == "app":
        expected = _items(ALL_TABLES)
        expected["connections"] |= {"dynamodb:Scan"}  # realtime/gateway.py: resubscribe after installation events
        expected["workflow_cache"] |= {"dynamodb:DescribeTable"}  # GET /healthz
    elif function == "reconcile":
        expected = _items(ALL_TABLES - {"user_settings"})
        expected["connections"] |= {"dynamodb:Scan"}  # realtime/gateway.py: connections_recheck
    else:
        expected = _items({"connections", "github_state", "sessions", "subscriptions", "users"})
    return {**expected, "other:": _others(function)}


def problems(directory, function):
    return expected_problems(load(directory), function, needs(function))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_role_has_exactly_what_it_needs(function):
    assert problems(INFRA, function) == []


@pytest.mark.parametrize("document", [*FUNCTIONS, "deploy", "apigateway_invoke"])
def test_no_role_policy_has_a_wildcard_action_or_resource(document):
    config = load(INFRA)

    assert statements(config, document), f"no policy document {document}"
    assert wildcard_problems(config, document) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_role_carries_only_its_own_policy(function):
    config = load(INFRA)
    policy = config.resources["aws_iam_role_policy"][function]

    assert policy["role"] == f"${{aws_iam_role.{function}.id}}"
    assert policy["policy"] == f"${{data.aws_iam_policy_document.{function}.json}}"
    role = f"${{aws_iam_role.{function}.id}}"
    assert [name for name, body in config.resources["aws_iam_role_policy"].items() if body["role"] == role] == [
        function
    ]
    assert "aws_iam_role_policy_attachment" not in config.resources
    assert "managed_policy_arns" not in config.resources["aws_iam_role"][function]


def test_the_secrets_path_is_the_one_the_app_reads():
    config = load(INFRA)
    zappa = json.loads((ROOT / "zappa_settings.json").read_text())

    for stage in ("dev", "prod"):
        arn = config.resolve(config.locals["ssm_path_arn"], workspace=stage)
        path = zappa[stage]["aws_environment_variables"]["DASHBOARD_SSM_PATH"]
        assert arn.endswith(f":parameter{path.rstrip('/')}"), (arn, path)


def test_the_stream_role_uses_the_data_key_through_sqs_only():
    """The data key also encrypts the tables, the logs and the artifacts: the stream role may use it for its failure
    queue, and for nothing else."""
    config = load(INFRA)
    (statement,) = [item for item in statements(config, "stream") if "${aws_kms_key.data.arn}" in item["resources"]]

    assert statement["condition"] == [
        {"test": "StringEquals", "variable": "kms:ViaService", "values": ["sqs.${var.region}.amazonaws.com"]}
    ]


def test_the_stream_role_reads_the_events_tables_stream_and_no_other():
    config = load(INFRA)
    reads = {resource for action, resource in grants(config, "stream") if action in STREAM_READ}

    assert reads == {"${aws_dynamodb_table.events.stream_arn}"}


def test_the_pipeline_may_deploy_and_pass_the_role_of_every_function():
    config = load(INFRA)
    deploy = {item.get("sid"): item for item in statements(config, "deploy")}

    for function in FUNCTIONS:
        assert f"${{local.function_arns.{function}}}" in deploy["Functions"]["resources"], function
        assert f"${{aws_iam_role.{function}.arn}}" in deploy["PassRoles"]["resources"], function
        assert f"${{aws_iam_role.{function}.arn}}" in deploy["ReadRoles"]["resources"], function


def test_the_pipeline_passes_roles_only_to_lambda():
    config = load(INFRA)
    (statement,) = [item for item in statements(config, "deploy") if item.get("sid") == "PassRoles"]

    assert statement["condition"] == [
        {"test": "StringEquals", "variable": "iam:PassedToService", "values": ["lambda.amazonaws.com"]}
    ]


def test_the_pipeline_role_trusts_only_its_stages_github_environment():
    config = load(INFRA)
    (statement,) = statements(config, "deploy_assume")
    subjects = [item for item in statement["condition"] if item["variable"].endswith(":sub")]

    assert subjects == [
        {
            "test": "StringEquals",
            "variable": "token.actions.githubusercontent.com:sub",
            "values": ["repo:${var.github_repository}:environment:${local.stage}"],
        }
    ]


# --- Broken copies ----------------------------------------------------------------------------------------------


def _remove_statement(path, sid: str, occurrence: int = 1) -> None:
    text = path.read_text()
    start = -1
    for _ in range(occurrence):
        start = text.index(f'sid       = "{sid}"', start + 1)
    begin = text.rindex("  statement {", 0, start)
    end = text.index("\n  }\n", start) + 5
    path.write_text(text[:begin] + text[end:])


def test_it_fails_when_a_function_loses_a_permission_it_needs(infra_copy):
    _remove_statement(infra_copy / "iam.tf", "ScanConnections")  # the first is app's

    assert problems(infra_copy, "app") == ["policy app: table connections lacks ['dynamodb:Scan']"]


def test_it_fails_when_a_function_loses_the_tokens_key(infra_copy):
    _remove_statement(infra_copy / "iam.tf", "TokensKey", occurrence=3)  # ws's

    assert problems(infra_copy, "ws") == [
        "policy ws: lacks kms:Decrypt on ${aws_kms_key.tokens.arn}",
        "policy ws: lacks kms:GenerateDataKey on ${aws_kms_key.tokens.arn}",
    ]


def test_it_fails_when_a_function_gets_a_table_it_does_not_use(infra_copy):
    path = infra_copy / "iam.tf"
    text = path.read_text()
    items = text.index("    resources = [\n", text.index('data "aws_iam_policy_document" "ws" {'))
    path.write_text(
        text[:items] + "    resources = [\n      aws_dynamodb_table.workflow_jobs.arn,\n" + text[items + 18 :]
    )

    assert problems(infra_copy, "ws") == [f"policy ws: table workflow_jobs has more than it needs: {sorted(ITEM)}"]


def test_it_fails_on_a_wildcard_action(infra_copy):
    edit(infra_copy / "iam.tf", '"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"', '"dynamodb:*"')

    found = problems(infra_copy, "reconcile")

    assert "policy reconcile: wildcard action dynamodb:*" in found


def test_it_fails_on_a_star_resource(infra_copy):
    edit(
        infra_copy / "iam.tf",
        'actions   = ["cloudfront:CreateInvalidation"]\n    resources = [aws_cloudfront_distribution.site.arn]',
        'actions   = ["cloudfront:CreateInvalidation"]\n    resources = ["*"]',
    )

    assert wildcard_problems(load(infra_copy), "deploy") == [
        "policy deploy: cloudfront:CreateInvalidation on every resource (*), though the resource is known",
    ]


def test_it_fails_when_the_stream_function_cannot_park_its_failures(infra_copy):
    _remove_statement(infra_copy / "iam.tf", "ParkFailures")

    assert problems(infra_copy, "stream") == [
        "policy stream: lacks sqs:SendMessage on ${aws_sqs_queue.stream_failures.arn}"
    ]


def test_it_fails_when_the_stream_function_may_close_sockets(infra_copy):
    edit(
        infra_copy / "iam.tf",
        'resources = ["${aws_apigatewayv2_api.ws.execution_arn}/${local.websocket_stage}/POST/@connections/*"]',
        "resources = local.socket_arns",
    )

    assert problems(infra_copy, "stream") == [
        f"policy stream: has more than it needs: execute-api:ManageConnections on {SOCKETS}/DELETE/@connections/*"
    ]


def test_it_fails_when_the_stream_role_reads_every_stream(infra_copy):
    edit(infra_copy / "iam.tf", "resources = [aws_dynamodb_table.events.stream_arn]", 'resources = ["*"]')

    found = problems(infra_copy, "stream")

    assert "policy stream: dynamodb:GetRecords on every resource (*), though the resource is known" in found
    assert f"policy stream: table events lacks {sorted(f'{action}@stream' for action in STREAM_READ)}" in found


def test_grants_reads_the_actions_a_policy_allows():
    assert ("dynamodb:Scan", "${aws_dynamodb_table.connections.arn}") in grants(load(INFRA), "app")
