# Once per AWS account, before infra/ (local state, kept by whoever runs it; it changes almost never):
#   cd infra/bootstrap && terraform init && terraform apply
# What is here is shared by every stage: the S3 bucket of Terraform's state, GitHub's OIDC provider (one per
# account and URL), and API Gateway's account-wide role for writing logs.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

provider "aws" {
  region = "eu-west-2"

  default_tags {
    tags = {
      Project   = "actions-dashboard"
      ManagedBy = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "state" {
  description             = "actions-dashboard: Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

data "aws_iam_policy_document" "state_key" {
  #checkov:skip=CKV_AWS_109:A key policy, not an IAM policy: its "*" resource is this key alone, and the account statement hands administration to IAM, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_111:A key policy, not an IAM policy: its "*" resource is this key alone; who may use the key is decided by IAM policies (infra/iam.tf).
  #checkov:skip=CKV_AWS_356:A key policy, not an IAM policy: "*" as a key policy's resource means this key.

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_s3_bucket" "state" {
  bucket = "actions-dashboard-terraform-state-${data.aws_caller_identity.current.account_id}"
  #checkov:skip=CKV_AWS_144:Cross-region replication: versioning keeps every earlier state, and the state can be re-imported from AWS itself.
  #checkov:skip=CKV_AWS_18:Access logging: a handful of people and the pipeline read it; CloudTrail records it.
  #checkov:skip=CKV2_AWS_62:Event notifications: nothing reacts to a state change.

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "keep-a-year-of-earlier-states"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 365
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# The delivery pipeline's roles (infra/iam.tf) trust GitHub's tokens through this provider.
resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

# API Gateway writes the WebSocket and HTTP APIs' logs with this account-wide role.
data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigateway_logs" {
  name               = "actions-dashboard-apigateway-logs"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

# AWS's own policy for exactly this role: create log groups and streams, and write to them.
resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  role       = aws_iam_role.apigateway_logs.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.apigateway_logs.arn
}

output "state_bucket" {
  description = "infra/'s state bucket, for its partial backend configuration: terraform init -backend-config=\"bucket=...\"."
  value       = aws_s3_bucket.state.bucket
}
