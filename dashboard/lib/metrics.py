"""CloudWatch metrics in the embedded metric format: a JSON log line per measurement, no API call, no client.

Lambda's log stream carries the line to CloudWatch Logs, which extracts the metric; infra/observability.tf alarms
on it. The line leaves through the `dashboard.lib.metrics` logger, so deployed stages print it as the JSON document
itself (dashboard/lib/logs.py), local runs keep it quiet, and tests read it from the log records.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

import logging
import time
from typing import Any

from django.conf import settings

NAMESPACE = "ActionsDashboard"

# Every metric the app emits, with its unit: what operators watch (docs/OPERATIONS.md, infra/observability.tf).
METRICS = {
    "WebhookProcessed": "Count",  # verified deliveries handled (any outcome: applied, stale, duplicate, ...)
    "WebhookFailed": "Count",  # verified deliveries that could not be processed
    "WebhookRefused": "Count",  # deliveries refused before processing (signature, headers, size)
    "WebhookLag": "Milliseconds",  # from GitHub's change (the payload's timestamp) to the delivery handled
    "ReconcileCompleted": "Count",  # reconciliation passes that ran to the end
    "RunsRepaired": "Count",  # runs reconciliation found changed on GitHub (webhooks missed them)
    "DeliveriesRedelivered": "Count",  # deliveries reconciliation asked GitHub to send again
    "ReconcileErrors": "Count",  # runs or deliveries reconciliation could not repair this pass
    "FanoutDelivered": "Count",  # pushes to sockets through the WebSocket API
    "FanoutGone": "Count",  # pushes API Gateway answered 410 (the socket had gone)
    "StreamRecordsFailed": "Count",  # stream records a pipeline consumer failed on (retried, then parked)
    "GitHubRateLimitRemaining": "Count",  # what GitHub said is left of a credential's hourly budget
    "DynamoDBThrottles": "Count",  # DynamoDB requests refused for throughput (each attempt)
}

logger = logging.getLogger(__name__)


class UnknownMetric(ValueError):
    """A metric not in METRICS: an alarm could never find it."""


def document(values: dict[str, float], dimensions: dict[str, str], properties: dict[str, Any]) -> dict[str, Any]:
    """The embedded-metric-format document for these values."""
    for name in values:
        if name not in METRICS:
            raise UnknownMetric(name)
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": METRICS[name]} for name in values],
                }
            ],
        },
        **properties,
        **dimensions,
        **values,
    }


def emit(values: dict[str, float], *, dimensions: dict[str, str] | None = None, **properties: Any) -> None:
    """Record metric values; `dimensions` beyond the stage split them (keep them few), `properties` only describe."""
    if not logger.isEnabledFor(logging.INFO):
        return
    dims = {"Stage": settings.STAGE, **(dimensions or {})}
    doc = document(values, dims, properties)
    summary = " ".join(f"{name}={value}" for name, value in values.items())
    logger.info("metric %s", summary, extra={"emf": doc})
