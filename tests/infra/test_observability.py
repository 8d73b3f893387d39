"""The alarms and the dashboard watch metrics the app really emits, and every metric operators watch has one."""

import re

from dashboard.lib.metrics import METRICS, NAMESPACE
from devstack.package import FUNCTIONS
from tests.infra.conftest import INFRA, edit
from tests.infra.terraform import load

ALARMED = {
    "WebhookLag", "WebhookFailed", "WebhookRefused", "ReconcileCompleted", "RunsRepaired", "FanoutDelivered",
    "FanoutGone", "GitHubRateLimitRemaining", "DynamoDBThrottles",
}  # fmt: skip
# Alarmed on in AWS's own namespaces (AWS/Lambda, AWS/ApiGateway, AWS/SQS), not emitted by the app.
AWS_METRICS = {"Errors", "5xx", "IteratorAge", "ApproximateNumberOfMessagesVisible"}


def named_metrics(directory) -> tuple[set[str], set[str]]:
    """(metrics alarmed on, metrics anywhere) of the app's namespace in observability.tf."""
    text = (directory / "observability.tf").read_text()
    assert f'namespace = "{NAMESPACE}"' in text
    alarmed = set(re.findall(r'metric_name\s+=\s+"([A-Za-z0-9]+)"', text))
    shown = set(re.findall(r'\[local\.namespace, "([A-Za-z0-9]+)"', text))
    return alarmed - AWS_METRICS, alarmed | shown


def test_every_metric_in_terraform_is_one_the_app_emits():
    alarmed, named = named_metrics(INFRA)

    assert (named - AWS_METRICS) - METRICS.keys() == set()
    assert alarmed == ALARMED


def test_every_metric_the_app_emits_is_on_the_dashboard():
    _, named = named_metrics(INFRA)

    assert METRICS.keys() - named == set()


def test_every_function_has_its_log_group_and_its_errors_alarm():
    config = load(INFRA)
    groups = config.resources["aws_cloudwatch_log_group"]

    for function in FUNCTIONS:
        name = config.resolve(config.locals["functions"][function], workspace="prod")
        assert config.resolve(groups[function]["name"], workspace="prod") == f"/aws/lambda/{name}"
        assert groups[function]["kms_key_id"] == "${aws_kms_key.data.arn}"
    assert config.locals["functions"].keys() == FUNCTIONS.keys()
    assert config.resources["aws_cloudwatch_metric_alarm"]["lambda_errors"]["for_each"] == "${local.functions}"


def test_it_fails_when_an_alarm_watches_a_metric_nobody_emits(infra_copy):
    edit(
        infra_copy / "observability.tf",
        'metric_name         = "WebhookFailed"',
        'metric_name         = "WebhookErrors"',
    )

    _, named = named_metrics(infra_copy)

    assert named - METRICS.keys() - AWS_METRICS == {"WebhookErrors"}
