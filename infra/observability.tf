# Logs, metrics, the dashboard and the alarms. The app writes structured JSON logs and its metrics as
# embedded-metric-format lines (dashboard/lib/logs.py, dashboard/lib/metrics.py); CloudWatch turns those lines into
# the metrics below, in the `ActionsDashboard` namespace with a `Stage` dimension. tests/infra/test_observability.py
# checks every metric named here is one the app emits.

locals {
  namespace = "ActionsDashboard"
  # A year: the JSON logs are the record of what happened to a delivery or a run.
  log_retention_days = 365
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/aws/lambda/${local.functions.app}"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_cloudwatch_log_group" "reconcile" {
  name              = "/aws/lambda/${local.functions.reconcile}"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_cloudwatch_log_group" "ws" {
  name              = "/aws/lambda/${local.functions.ws}"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_cloudwatch_log_group" "stream" {
  name              = "/aws/lambda/${local.functions.stream}"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_cloudwatch_log_group" "access" {
  for_each = toset(["app", "ws"])

  name              = "/aws/apigateway/${local.name}-${each.key}"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.data.arn
}

# First-time setup requires the address (variables.tf): alarms that notify nobody would make every recovery
# objective a guess. AWS mails a confirmation link the recipient must follow once.
resource "aws_sns_topic_subscription" "alarms_email" {
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- Alarms: what an operator is woken for (docs/OPERATIONS.md says what to do about each) ----------------

# GitHub's change reached the cache late: deliveries queue, or the receiver is slow or failing.
resource "aws_cloudwatch_metric_alarm" "webhook_lag" {
  alarm_name          = "${local.name}-webhook-lag"
  alarm_description   = "p95 time from GitHub's change to its webhook applied is over 2 minutes"
  namespace           = local.namespace
  metric_name         = "WebhookLag"
  dimensions          = { Stage = local.stage }
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 2
  threshold           = 120000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "webhook_failures" {
  alarm_name          = "${local.name}-webhook-failures"
  alarm_description   = "Verified deliveries that could not be processed (errors, timeouts, unexpected payloads)"
  namespace           = local.namespace
  metric_name         = "WebhookFailed"
  dimensions          = { Stage = local.stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Deliveries refused before processing: most often a webhook secret that differs between GitHub and SSM.
resource "aws_cloudwatch_metric_alarm" "webhook_refusals" {
  alarm_name          = "${local.name}-webhook-refusals"
  alarm_description   = "Deliveries refused (bad signature, headers or size): check the webhook secret"
  namespace           = local.namespace
  metric_name         = "WebhookRefused"
  dimensions          = { Stage = local.stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Reconciliation is the safety net for every missed webhook: it must run.
resource "aws_cloudwatch_metric_alarm" "reconcile_stopped" {
  alarm_name          = "${local.name}-reconcile-stopped"
  alarm_description   = "No reconciliation pass completed in 15 minutes (it runs every 5)"
  namespace           = local.namespace
  metric_name         = "ReconcileCompleted"
  dimensions          = { Stage = local.stage }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Many repairs mean webhooks are being lost on the way.
resource "aws_cloudwatch_metric_alarm" "reconcile_repairs" {
  alarm_name          = "${local.name}-reconcile-repairs"
  alarm_description   = "Reconciliation repaired 10 or more runs in 15 minutes: webhooks are being missed"
  namespace           = local.namespace
  metric_name         = "RunsRepaired"
  dimensions          = { Stage = local.stage }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Most pushes finding their socket gone (410): $disconnect is not reaching the WebSocket function.
resource "aws_cloudwatch_metric_alarm" "fanout_gone" {
  alarm_name          = "${local.name}-fanout-gone"
  alarm_description   = "Over half of the pushes in 5 minutes (of at least 20) found their socket gone (410)"
  evaluation_periods  = 2
  threshold           = 0.5
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "gone_share"
    expression  = "IF(delivered + gone >= 20, gone / (delivered + gone), 0)"
    label       = "Share of pushes to gone sockets"
    return_data = true
  }

  metric_query {
    id = "delivered"

    metric {
      namespace   = local.namespace
      metric_name = "FanoutDelivered"
      dimensions  = { Stage = local.stage }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "gone"

    metric {
      namespace   = local.namespace
      metric_name = "FanoutGone"
      dimensions  = { Stage = local.stage }
      stat        = "Sum"
      period      = 300
    }
  }
}

# The App's own request budgets: below this, reconciliation and backfill are about to stop.
resource "aws_cloudwatch_metric_alarm" "github_budget" {
  for_each = toset(["app", "installation"])

  alarm_name          = "${local.name}-github-budget-${each.key}"
  alarm_description   = "A GitHub ${each.key} credential has fewer than 500 requests left this hour"
  namespace           = local.namespace
  metric_name         = "GitHubRateLimitRemaining"
  dimensions          = { Stage = local.stage, Credential = each.key }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 500
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = "${local.name}-dynamodb-throttles"
  alarm_description   = "DynamoDB throttled 10 or more of the app's requests in 5 minutes"
  namespace           = local.namespace
  metric_name         = "DynamoDBThrottles"
  dimensions          = { Stage = local.stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = local.functions

  alarm_name          = "${each.value}-errors"
  alarm_description   = "The ${each.key} function failed 5 or more times in 5 minutes (unhandled errors, timeouts)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# The stream function is falling behind the events table (stream.tf). Healthy, a record is read within a second
# (Lambda polls each shard four times a second, no batching window), and a poison record's retries may hold the
# shard for a minute or two before it is parked, which `stream-failures` reports; 3 of 5 minutes over one minute
# means the function stays behind (throttled, failing every batch, or slower than the writes). A minute late is
# already a stale live view, and leaves most of the hour before records age out into the failure queue. Maximum,
# on the function (every version and alias): the oldest record waiting is the one a browser waits for.
resource "aws_cloudwatch_metric_alarm" "stream_iterator_age" {
  alarm_name          = "${local.name}-stream-iterator-age"
  alarm_description   = "The stream function read records over a minute old in 3 of the last 5 minutes"
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = local.functions.stream }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = 60000
  comparison_operator = "GreaterThanThreshold"
  # No records, no invocations, no data: a quiet stream is a healthy one.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.alarms.arn]
  ok_actions         = [aws_sns_topic.alarms.arn]
}

# Any record parked is a change some browsers never got, until it is replayed (docs/OPERATIONS.md); the alarm stays
# on while the queue holds one. The records themselves leave the stream after 24 hours.
resource "aws_cloudwatch_metric_alarm" "stream_failures" {
  alarm_name          = "${local.name}-stream-failures"
  alarm_description   = "Stream records the stream function gave up on are parked in the failure queue: replay them"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.stream_failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# What users see: the app answering 5xx through the HTTP API (the first sign of an outage, for the RTO).
resource "aws_cloudwatch_metric_alarm" "app_5xx" {
  alarm_name          = "${local.name}-app-5xx"
  alarm_description   = "The app answered 10 or more 5xx in 5 minutes"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = aws_apigatewayv2_api.app.id, Stage = "$default" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# --- The dashboard --------------------------------------------------------------------------------------------

locals {

  dashboard_widgets = [
    { title = "Webhooks", metrics = [
      [local.namespace, "WebhookProcessed", "Stage", local.stage, { stat = "Sum" }],
      [local.namespace, "WebhookFailed", "Stage", local.stage, { stat = "Sum" }],
      [local.namespace, "WebhookRefused", "Stage", local.stage, { stat = "Sum" }],
    ] },
    { title = "Webhook lag (ms)", metrics = [
      [local.namespace, "WebhookLag", "Stage", local.stage, { stat = "p50" }],
      [local.namespace, "WebhookLag", "Stage", local.stage, { stat = "p95" }],
    ] },
    { title = "Reconciliation", metrics = [
      [local.namespace, "ReconcileCompleted", "Stage", local.stage, { stat = "Sum" }],
      [local.namespace, "RunsRepaired", "Stage", local.stage, { stat = "Sum" }],
      [local.namespace, "DeliveriesRedelivered", "Stage", local.stage, { stat = "Sum" }],
      [local.namespace, "ReconcileErrors", "Stage", local.stage, { stat = "Sum" }],
    ] },
    { title = "Live updates pushed", metrics = [
      [local.namespace, "FanoutDelivered", "Stage", local.stage, { stat = "Sum" }],
      [local.namespace, "FanoutGone", "Stage", local.stage, { stat = "Sum" }],
    ] },
    { title = "GitHub requests left (lowest)", metrics = [
      [local.namespace, "GitHubRateLimitRemaining", "Stage", local.stage, "Credential", "app", { stat = "Minimum" }],
      [local.namespace, "GitHubRateLimitRemaining", "Stage", local.stage, "Credential", "installation", { stat = "Minimum" }],
      [local.namespace, "GitHubRateLimitRemaining", "Stage", local.stage, "Credential", "user", { stat = "Minimum" }],
    ] },
    { title = "Events stream: oldest record read (ms), records failed and parked", metrics = [
      ["AWS/Lambda", "IteratorAge", "FunctionName", local.functions.stream, { stat = "Maximum" }],
      [local.namespace, "StreamRecordsFailed", "Stage", local.stage, { stat = "Sum", yAxis = "right" }],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.stream_failures.name, { stat = "Maximum", yAxis = "right" }],
    ] },
    { title = "DynamoDB throttles", metrics = [
      [local.namespace, "DynamoDBThrottles", "Stage", local.stage, { stat = "Sum" }],
    ] },
    { title = "Lambda errors and throttles", metrics = concat(
      [for name in values(local.functions) : ["AWS/Lambda", "Errors", "FunctionName", name, { stat = "Sum" }]],
      [for name in values(local.functions) : ["AWS/Lambda", "Throttles", "FunctionName", name, { stat = "Sum" }]],
    ) },
    { title = "Lambda duration p95 (ms)", metrics = [
      for name in values(local.functions) : ["AWS/Lambda", "Duration", "FunctionName", name, { stat = "p95" }]
    ] },
  ]
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.name
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.dashboard_widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = var.region
          view    = "timeSeries"
          period  = 300
          metrics = widget.metrics
        }
      }
    ]
  })
}
