"""Metrics in CloudWatch's embedded metric format: what the lines look like, and the shared client's throttles."""

import json
import logging

import pytest

from dashboard.lib import github, metrics
from dashboard.lib.dynamo import shared_client
from dashboard.lib.logs import JsonFormatter


@pytest.fixture
def emitted(caplog):
    """The metric documents emitted during the test (deployed stages print them; local ones keep them quiet)."""
    caplog.set_level(logging.INFO, logger="dashboard.lib.metrics")
    return lambda: [record.emf for record in caplog.records if hasattr(record, "emf")]


def test_it_writes_a_document_cloudwatch_extracts_metrics_from(emitted, settings):
    metrics.emit({"FanoutDelivered": 3, "FanoutGone": 1}, repo="acme/api")

    (document,) = emitted()
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "ActionsDashboard",
        "Dimensions": [["Stage"]],
        "Metrics": [{"Name": "FanoutDelivered", "Unit": "Count"}, {"Name": "FanoutGone", "Unit": "Count"}],
    }
    assert isinstance(document["_aws"]["Timestamp"], int)
    assert (document["Stage"], document["FanoutDelivered"], document["FanoutGone"]) == (settings.STAGE, 3, 1)
    assert document["repo"] == "acme/api"


def test_a_deployed_stage_prints_the_document_itself_as_the_log_line(emitted):
    metrics.emit({"WebhookLag": 1500}, dimensions={"Credential": "app"})
    record = logging.LogRecord("dashboard.lib.metrics", logging.INFO, "", 0, "metric", (), None)
    record.emf = emitted()[0]

    line = JsonFormatter().format(record)

    assert json.loads(line) == record.emf
    assert json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Credential", "Stage"]]
    assert json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "WebhookLag", "Unit": "Milliseconds"}
    ]


def test_it_refuses_a_metric_no_alarm_could_know(emitted):
    with pytest.raises(metrics.UnknownMetric):
        metrics.emit({"WebhookErrors": 1})


def test_it_costs_nothing_when_metrics_are_off(caplog):
    caplog.set_level(logging.WARNING, logger="dashboard.lib.metrics")

    metrics.emit({"WebhookErrors": 1})  # not even checked: nothing is built

    assert caplog.records == []


def test_it_counts_throttled_dynamodb_attempts_on_the_shared_client(emitted):
    client = shared_client()
    operation = client.meta.service_model.operation_model("GetItem")
    throttled = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}}
    cancelled = {
        "Error": {"Code": "TransactionCanceledException"},
        "CancellationReasons": [{"Code": "ThrottlingError"}],
    }
    refused = {"Error": {"Code": "ConditionalCheckFailedException"}}

    for parsed in (throttled, cancelled, refused):
        client.meta.events.emit(
            "needs-retry.dynamodb.GetItem",
            response=(None, parsed),
            endpoint=None,
            operation=operation,
            attempts=1,
            caught_exception=None,
            request_dict={"context": {}},
        )

    assert [(document["DynamoDBThrottles"], document["operation"]) for document in emitted()] == [
        (1, "GetItem"),
        (1, "GetItem"),
    ]


def test_it_reports_what_github_says_is_left_of_a_credentials_budget(emitted, github_sim, dynamodb):
    github.get("/app", token=github.app_jwt(), identity="app")

    (document,) = [document for document in emitted() if "GitHubRateLimitRemaining" in document]
    assert document["Credential"] == "app"
    assert document["GitHubRateLimitRemaining"] == github.budget("app").remaining
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Credential", "Stage"]]
