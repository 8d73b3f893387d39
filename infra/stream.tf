# The events table's DynamoDB Stream feeds the stream function (pipeline/lambda_stream.py): everything after a webhook's
# write runs there, not in the webhook's request. The mapping is owned here rather than by Zappa's `events`: Zappa
# maps a stream to the unqualified function, so a version not yet checked would read the stream from the moment
# `zappa update` ran. Here the mapping invokes the `live` alias, which a deploy moves only once every new version
# passed its checks, and a rollback moves back (devstack/release.py); Zappa leaves it alone (no `events`).

# Records Lambda gave up on: one message per failed batch, naming the stream, the shard and the first and last
# sequence numbers (not the records, which stay in the stream for 24 hours): what a replay reads them back by
# (docs/OPERATIONS.md). Kept 14 days, SQS's longest, so a failure over a long weekend is still there to diagnose.
resource "aws_sqs_queue" "stream_failures" {
  name                      = "${local.name}-stream-failures"
  message_retention_seconds = 1209600
  # A replay (`manage.py stream_replay`) receives every parked message before it handles them: hidden 15 minutes,
  # none comes round twice in one pass, and one kept (it failed again) is back for the next.
  visibility_timeout_seconds = 900
  # Under the stage's data key, like the tables, the logs and the alarm topic; the stream function's role may use
  # the key through SQS only (iam.tf).
  kms_master_key_id = aws_kms_key.data.arn
}

# The function and its alias exist only after the first deploy: first-time setup applies once without this, deploys,
# then applies with `functions_deployed = true` (docs/OPERATIONS.md).
resource "aws_lambda_event_source_mapping" "stream" {
  count = var.functions_deployed ? 1 : 0

  event_source_arn = aws_dynamodb_table.events.stream_arn
  function_name    = local.live_arns.stream
  # From the mapping's creation on. The stream holds 24 hours: replaying them at creation would push changes hours
  # old to browsers that have since re-read their snapshot.
  starting_position = "LATEST"
  # Up to 100 records per invocation: a burst (a workflow's jobs finishing together) arrives in few invocations,
  # whose changes the function coalesces, and a full batch stays well within its 60 s timeout (zappa_settings.json).
  batch_size = 100
  # No waiting to fill a batch: the first change after a quiet second must reach browsers at once; coalescing what
  # arrives together is the function's job, not a delay's.
  maximum_batching_window_in_seconds = 0
  # One batch at a time per shard: a repository's changes reach browsers in the order they were written, so an
  # earlier state never overtakes a later one.
  parallelization_factor = 1
  # The function answers which records failed (a partial batch response), so Lambda retries from the first of them
  # only; a batch that fails as a whole (an error, a timeout) is split in two and retried, so a poison record is
  # isolated in a few tries. After 3 retries it is parked in the failure queue, with the shard and sequence numbers
  # needed to replay it, and the records behind it go on (the default, -1, would hold the shard until they expire).
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = 3
  # A record older than an hour is parked rather than processed: events expire after an hour
  # (realtime/models.py EVENT_RETENTION), and a browser that missed that much re-reads its snapshot instead.
  maximum_record_age_in_seconds = 3600

  # New events only. Each expires by TTL an hour after it is written, and DynamoDB streams that deletion as a REMOVE
  # record, which would otherwise invoke the function for nothing; events are never modified.
  filter_criteria {
    filter {
      pattern = jsonencode({ eventName = ["INSERT"] })
    }
  }

  # Lambda sends what it gave up on with the function's role (iam.tf: ParkFailures).
  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.stream_failures.arn
    }
  }

  # Lambda checks at creation that the function's role can read the stream.
  depends_on = [aws_iam_role_policy.stream]
}
