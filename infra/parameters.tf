# What the functions need to know about this infrastructure reaches them like the secrets do: as parameters
# under the stage's SSM path, which become environment variables at start-up (dashboard/lib/parameters.py). The
# secrets themselves are put there by a person (docs/OPERATIONS.md) and never pass through Terraform's state.

resource "aws_ssm_parameter" "websocket_api_endpoint" {
  name        = "${local.ssm_path}/WEBSOCKET_API_ENDPOINT"
  description = "The WebSocket API's management endpoint"
  type        = "String"
  value       = local.websocket_management_endpoint
  #checkov:skip=CKV2_AWS_34:Not a secret: an endpoint URL the browser-facing API also reveals.
}

resource "aws_ssm_parameter" "token_kms_key_id" {
  name        = "${local.ssm_path}/TOKEN_KMS_KEY_ID"
  description = "The KMS key that seals users' GitHub tokens"
  type        = "String"
  value       = aws_kms_key.tokens.arn
  #checkov:skip=CKV2_AWS_34:Not a secret: a key ARN; using the key needs IAM permission on it.
}

resource "aws_ssm_parameter" "stream_failure_queue_url" {
  name        = "${local.ssm_path}/STREAM_FAILURE_QUEUE_URL"
  description = "The queue where the events stream parks the records its function gave up on (stream.tf)"
  type        = "String"
  value       = aws_sqs_queue.stream_failures.url
  #checkov:skip=CKV2_AWS_34:Not a secret: a queue URL; reading or writing the queue needs IAM permission on it.
}
