"""The events table's stream reaches the stream function as decided (infra/stream.tf): each setting of the source
mapping, the failure queue, the queue's URL in SSM, and the two alarms that watch them."""

import pytest

from devstack import package
from tests.infra.conftest import INFRA, edit
from tests.infra.terraform import jsonencoded, load, resource_problems

ALARM_TOPIC = ["${aws_sns_topic.alarms.arn}"]
# Each value with its reason in infra/stream.tf.
MAPPING = {
    "count": "${var.functions_deployed ? 1 : 0}",  # the alias exists only after the first deploy
    "event_source_arn": "${aws_dynamodb_table.events.stream_arn}",
    "function_name": "${local.live_arns.stream}",  # never a version that has not passed its checks
    "starting_position": "LATEST",
    "batch_size": 100,
    "maximum_batching_window_in_seconds": 0,
    "parallelization_factor": 1,
    "bisect_batch_on_function_error": True,
    "function_response_types": ["ReportBatchItemFailures"],
    "maximum_retry_attempts": 3,
    "maximum_record_age_in_seconds": 3600,
    "destination_config.on_failure.destination_arn": "${aws_sqs_queue.stream_failures.arn}",
    "depends_on": ["${aws_iam_role_policy.stream}"],
}
QUEUE = {
    "message_retention_seconds": 14 * 24 * 3600,
    "visibility_timeout_seconds": 15 * 60,
    "kms_master_key_id": "${aws_kms_key.data.arn}",
}
ITERATOR_AGE_ALARM = {
    "namespace": "AWS/Lambda",
    "metric_name": "IteratorAge",
    "dimensions": {"FunctionName": "${local.functions.stream}"},
    "statistic": "Maximum",
    "period": 60,
    "evaluation_periods": 5,
    "datapoints_to_alarm": 3,
    "threshold": 60000,
    "comparison_operator": "GreaterThanThreshold",
    "treat_missing_data": "notBreaching",
    "alarm_actions": ALARM_TOPIC,
    "ok_actions": ALARM_TOPIC,
}
FAILURES_ALARM = {
    "namespace": "AWS/SQS",
    "metric_name": "ApproximateNumberOfMessagesVisible",
    "dimensions": {"QueueName": "${aws_sqs_queue.stream_failures.name}"},
    "statistic": "Maximum",
    "threshold": 0,
    "comparison_operator": "GreaterThanThreshold",
    "treat_missing_data": "notBreaching",
    "alarm_actions": ALARM_TOPIC,
    "ok_actions": ALARM_TOPIC,
}


def mapping_problems(directory=INFRA):
    return resource_problems(directory, "aws_lambda_event_source_mapping", "stream", MAPPING)


def filter_problems(directory=INFRA) -> list[str]:
    """Only INSERT records pass the mapping's filter (its patterns read as Lambda matches them)."""
    body = load(directory).resources["aws_lambda_event_source_mapping"]["stream"]
    patterns = [jsonencoded(item["pattern"]) for item in body.get("filter_criteria", [{}])[0].get("filter", [])]
    if patterns != [{"eventName": ["INSERT"]}]:
        return [f"aws_lambda_event_source_mapping.stream: its filter passes {patterns}, not INSERT records only"]
    return []


def test_the_events_stream_invokes_the_stream_functions_live_alias_as_decided():
    assert mapping_problems() == []


def test_only_new_events_invoke_the_function():
    """TTL expiries are REMOVE records, an hour after every event: they would invoke the function for nothing."""
    assert filter_problems() == []


def test_failed_records_are_parked_in_the_stages_failure_queue_for_14_days():
    config = load(INFRA)
    queue = config.resources["aws_sqs_queue"]["stream_failures"]

    assert resource_problems(INFRA, "aws_sqs_queue", "stream_failures", QUEUE) == []
    for workspace in ("dev", "prod"):
        assert config.resolve(queue["name"], workspace=workspace) == f"actions-dashboard-{workspace}-stream-failures"


def test_the_failure_queues_url_reaches_the_stream_function_as_a_setting():
    """Through the stage's SSM path, which every function exports into its environment at start-up
    (dashboard/lib/parameters.py), as WEBSOCKET_API_ENDPOINT does."""
    config = load(INFRA)
    parameter = config.resources["aws_ssm_parameter"]["stream_failure_queue_url"]

    assert parameter["value"] == "${aws_sqs_queue.stream_failures.url}"
    assert parameter["type"] == "String"
    for workspace in ("dev", "prod"):
        path = package.stage_environment(package.zappa_stage(workspace, "stream"))["DASHBOARD_SSM_PATH"]
        assert config.resolve(parameter["name"], workspace=workspace) == f"{path}STREAM_FAILURE_QUEUE_URL"


@pytest.mark.parametrize(
    ("label", "expected"), [("stream_iterator_age", ITERATOR_AGE_ALARM), ("stream_failures", FAILURES_ALARM)]
)
def test_the_stream_is_alarmed_on_like_everything_else(label, expected):
    assert resource_problems(INFRA, "aws_cloudwatch_metric_alarm", label, expected) == []


# --- Broken copies --------------------------------------------------------------------------------------------


def test_it_fails_when_the_mapping_drifts_from_what_was_decided(infra_copy):
    edit(infra_copy / "stream.tf", "parallelization_factor = 1", "parallelization_factor = 4")
    edit(infra_copy / "stream.tf", "maximum_retry_attempts         = 3", "maximum_retry_attempts         = -1")
    edit(
        infra_copy / "stream.tf",
        "function_name    = local.live_arns.stream",
        "function_name    = local.functions.stream",
    )

    assert mapping_problems(infra_copy) == [
        "aws_lambda_event_source_mapping.stream: function_name is '${local.functions.stream}', not "
        "'${local.live_arns.stream}'",
        "aws_lambda_event_source_mapping.stream: parallelization_factor is 4, not 1",
        "aws_lambda_event_source_mapping.stream: maximum_retry_attempts is -1, not 3",
    ]


def test_it_fails_when_failures_are_no_longer_parked(infra_copy):
    path = infra_copy / "stream.tf"
    text = path.read_text()
    start = text.index("  destination_config {")
    path.write_text(text[:start] + text[text.index("\n  }\n", start) + 5 :])

    assert mapping_problems(infra_copy) == [
        "aws_lambda_event_source_mapping.stream: destination_config.on_failure.destination_arn is not set, and must "
        "be '${aws_sqs_queue.stream_failures.arn}'"
    ]


def test_it_fails_when_the_filter_lets_expiries_through(infra_copy):
    edit(infra_copy / "stream.tf", 'eventName = ["INSERT"]', 'eventName = ["INSERT", "REMOVE"]')

    assert filter_problems(infra_copy) == [
        "aws_lambda_event_source_mapping.stream: its filter passes [{'eventName': ['INSERT', 'REMOVE']}], not INSERT "
        "records only"
    ]
