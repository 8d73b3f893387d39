# Generated from the PynamoDB models by `make infra-tables` (devstack/terraform.py): do not edit by hand.
# tests/infra/test_tables.py fails when a table here and its model differ.

resource "aws_dynamodb_table" "connections" {
  name                        = "${local.table_prefix}connections"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "connectionId"
  deletion_protection_enabled = true

  attribute {
    name = "connectedAt"
    type = "S"
  }

  attribute {
    name = "connectionId"
    type = "S"
  }

  attribute {
    name = "userId"
    type = "N"
  }

  global_secondary_index {
    name            = "userId-index"
    hash_key        = "userId"
    range_key       = "connectedAt"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "realtime.models.Connection"
  }
}

resource "aws_dynamodb_table" "events" {
  name                        = "${local.table_prefix}events"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "bucket"
  range_key                   = "eventId"
  deletion_protection_enabled = true
  stream_enabled              = true
  stream_view_type            = "NEW_IMAGE"

  attribute {
    name = "bucket"
    type = "S"
  }

  attribute {
    name = "eventId"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "realtime.models.Event"
  }
}

resource "aws_dynamodb_table" "github_state" {
  name                        = "${local.table_prefix}github-state"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "key"
  deletion_protection_enabled = true

  attribute {
    name = "key"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "dashboard.lib.github.state.GitHubState"
  }
}

resource "aws_dynamodb_table" "repo_summaries" {
  name                        = "${local.table_prefix}repo-summaries"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "repoId"
  deletion_protection_enabled = true

  attribute {
    name = "repoId"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "runs.models.RepoSummary"
  }
}

resource "aws_dynamodb_table" "sessions" {
  name                        = "${local.table_prefix}sessions"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "sessionId"
  deletion_protection_enabled = true

  attribute {
    name = "createdAt"
    type = "S"
  }

  attribute {
    name = "sessionId"
    type = "S"
  }

  attribute {
    name = "userId"
    type = "N"
  }

  global_secondary_index {
    name            = "userId-index"
    hash_key        = "userId"
    range_key       = "createdAt"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "accounts.models.SessionRecord"
  }
}

resource "aws_dynamodb_table" "subscriptions" {
  name                        = "${local.table_prefix}subscriptions"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "repoId"
  range_key                   = "connectionId"
  deletion_protection_enabled = true

  attribute {
    name = "connectionId"
    type = "S"
  }

  attribute {
    name = "repoId"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "realtime.models.Subscription"
  }
}

resource "aws_dynamodb_table" "user_settings" {
  name                        = "${local.table_prefix}user-settings"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "userId"
  deletion_protection_enabled = true

  attribute {
    name = "userId"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "accounts.models.UserSettings"
  }
}

resource "aws_dynamodb_table" "users" {
  name                        = "${local.table_prefix}users"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "userId"
  deletion_protection_enabled = true

  attribute {
    name = "userId"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "accounts.models.UserRecord"
  }
}

resource "aws_dynamodb_table" "webhook_deliveries" {
  name                        = "${local.table_prefix}webhook-deliveries"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "deliveryId"
  deletion_protection_enabled = true

  attribute {
    name = "deliveryId"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "webhooks.models.WebhookDelivery"
  }
}

resource "aws_dynamodb_table" "workflow_cache" {
  name                        = "${local.table_prefix}workflow-cache"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "repoId"
  range_key                   = "runId"
  deletion_protection_enabled = true

  attribute {
    name = "activeStatus"
    type = "S"
  }

  attribute {
    name = "repoId"
    type = "S"
  }

  attribute {
    name = "runId"
    type = "N"
  }

  attribute {
    name = "updatedAt"
    type = "S"
  }

  global_secondary_index {
    name            = "active-status-index"
    hash_key        = "activeStatus"
    range_key       = "updatedAt"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "runs.models.WorkflowRun"
  }
}

resource "aws_dynamodb_table" "workflow_jobs" {
  name                        = "${local.table_prefix}workflow-jobs"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "runKey"
  range_key                   = "jobId"
  deletion_protection_enabled = true

  attribute {
    name = "jobId"
    type = "N"
  }

  attribute {
    name = "runKey"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  tags = {
    Model = "runs.models.WorkflowJob"
  }
}
