# Two keys per stage: `tokens` seals users' GitHub tokens (envelope encryption by the app, accounts/crypto.py);
# `data` encrypts everything at rest that AWS services write (tables, artifacts, logs, the alarm topic).

resource "aws_kms_key" "tokens" {
  description             = "${local.name}: seals users' GitHub tokens"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.tokens_key.json
}

resource "aws_kms_alias" "tokens" {
  name          = "alias/${local.name}-tokens"
  target_key_id = aws_kms_key.tokens.key_id
}

# Administration stays with the account's IAM; use is granted to the function roles by their own policies.
data "aws_iam_policy_document" "tokens_key" {
  #checkov:skip=CKV_AWS_109:A key policy, not an IAM policy: its "*" resource is this key alone, and the account statement hands administration to IAM, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_111:A key policy, not an IAM policy: its "*" resource is this key alone; who may use the key is decided by IAM policies (infra/iam.tf).
  #checkov:skip=CKV_AWS_356:A key policy, not an IAM policy: "*" as a key policy's resource means this key.

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "data" {
  description             = "${local.name}: tables, artifacts, logs and alarms at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.data_key.json
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

data "aws_iam_policy_document" "data_key" {
  #checkov:skip=CKV_AWS_109:A key policy, not an IAM policy: its "*" resource is this key alone, and the account statement hands administration to IAM, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_111:A key policy, not an IAM policy: its "*" resource is this key alone; who may use the key is decided by IAM policies (infra/iam.tf).
  #checkov:skip=CKV_AWS_356:A key policy, not an IAM policy: "*" as a key policy's resource means this key.

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }

  # As AWS's own key for DynamoDB does: principals of this account, only through DynamoDB in this region.
  statement {
    sid       = "DynamoDBForThisAccount"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "CloudWatchLogsForThisStage"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${var.region}:${local.account_id}:log-group:*${local.name}*"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}
