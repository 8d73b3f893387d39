output "site_url" {
  description = "Where the stage is served."
  value       = "https://${local.domain}"
}

output "webhook_url" {
  description = "The GitHub App's webhook URL."
  value       = "https://${local.domain}/webhooks/github"
}

output "deploy_role_arn" {
  description = "For the GitHub environment's AWS_DEPLOY_ROLE_ARN variable."
  value       = aws_iam_role.deploy.arn
}

output "artifacts_bucket" {
  description = "Where releases are published (devstack/release.py derives the same name from the account)."
  value       = aws_s3_bucket.artifacts.bucket
}

output "static_bucket" {
  description = "CloudFront's origin of /static and /errors (devstack/release.py derives the same name)."
  value       = aws_s3_bucket.static.bucket
}

output "distribution_id" {
  description = "For the GitHub environment's DISTRIBUTION_ID variable."
  value       = aws_cloudfront_distribution.site.id
}

output "websocket_management_endpoint" {
  description = "WEBSOCKET_API_ENDPOINT (already in SSM)."
  value       = local.websocket_management_endpoint
}

output "ssm_path" {
  description = "Where the stage's secrets go (DASHBOARD_SSM_PATH)."
  value       = "${local.ssm_path}/"
}
