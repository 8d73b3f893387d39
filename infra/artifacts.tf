# Release zips and their manifests (devstack/release.py): `releases/{sha}/lambda-{function}-{sha}.zip` and
# `releases/{sha}/manifest.json`. Versioned, and nothing expires, so any earlier release can be rolled back to.

resource "aws_s3_bucket" "artifacts" {
  bucket = "${local.name}-lambda-artifacts-${local.account_id}"
  #checkov:skip=CKV_AWS_144:Cross-region replication: a lost bucket loses only rebuildable artifacts; any commit can be rebuilt and redeployed.
  #checkov:skip=CKV_AWS_18:Access logging: only the pipeline's role writes and reads here, and CloudTrail records it.
  #checkov:skip=CKV2_AWS_62:Event notifications: nothing reacts to a new artifact; the pipeline deploys what it uploaded.
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Releases are never overwritten (their keys carry the commit), so only multipart leftovers are cleaned.
resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_bucket.json
}

data "aws_iam_policy_document" "artifacts_bucket" {
  statement {
    sid       = "TLSOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
