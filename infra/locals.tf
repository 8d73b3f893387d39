locals {
  # The workspace is the stage. Any workspace but `dev` or `prod` (such as `default`) fails here, on purpose.
  stage  = terraform.workspace
  domain = var.domains[terraform.workspace]

  name         = "actions-dashboard-${terraform.workspace}"
  table_prefix = "${local.name}-"
  ssm_path     = "/actions-dashboard/${terraform.workspace}"

  # S3 bucket names are global: every bucket's name ends with the account's id, so that an installation in
  # another account never collides (devstack/release.py derives the same names from its credentials).
  account_id = data.aws_caller_identity.current.account_id

  # The Lambda functions Zappa deploys (zappa_settings.json stages `dev`, `dev_reconcile`, `dev_ws`, `dev_stream`,
  # and prod's).
  functions = {
    app       = local.name
    reconcile = "${local.name}-reconcile"
    ws        = "${local.name}-ws"
    stream    = "${local.name}-stream"
  }
  # Their roles (iam.tf); zappa_settings.json names the same ones (`role_name`, with `manage_roles` off).
  roles = {
    app       = "${local.name}-app"
    reconcile = "${local.name}-reconcile"
    ws        = "${local.name}-ws"
    stream    = "${local.name}-stream"
  }
  function_arns = {
    app       = "arn:aws:lambda:${var.region}:${local.account_id}:function:${local.functions.app}"
    reconcile = "arn:aws:lambda:${var.region}:${local.account_id}:function:${local.functions.reconcile}"
    ws        = "arn:aws:lambda:${var.region}:${local.account_id}:function:${local.functions.ws}"
    stream    = "arn:aws:lambda:${var.region}:${local.account_id}:function:${local.functions.stream}"
  }

  # What the APIs, the schedule and the events stream invoke: each function's `live` alias, which a deploy moves
  # only once every new version passed its checks, and a rollback moves back (devstack/release.py).
  live_arns = { for function, arn in local.function_arns : function => "${arn}:live" }

  # The WebSocket API's stage is named `ws`, so CloudFront's `/ws` path reaches it unchanged.
  websocket_stage = "ws"
}

data "aws_caller_identity" "current" {}
