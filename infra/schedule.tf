# Reconciliation every 5 minutes (dashboard/reconciliation.py), owned here rather than by Zappa's `events`: Zappa deletes and
# re-creates its rule, targets and permission on every `zappa update` (a window with no schedule), needs
# events:ListRuleNamesByTarget (no resource-level permission) and passes the function's role to EventBridge. Here
# the rule targets the `live` alias, so a deploy that fails its checks never schedules an unchecked version.

resource "aws_cloudwatch_event_rule" "reconcile" {
  name                = "${local.name}-reconcile"
  description         = "Reconciliation of ${local.name}: stale runs re-read, failed deliveries redelivered"
  schedule_expression = "rate(5 minutes)"
}

resource "aws_cloudwatch_event_target" "reconcile" {
  rule = aws_cloudwatch_event_rule.reconcile.name
  arn  = local.live_arns.reconcile
  # Zappa's handler runs a direct command: the same function its own schedule would name.
  input = jsonencode({ command = "dashboard.reconciliation.scheduled" })
}

# The function and its alias exist only after the first deploy: first-time setup applies once without this, deploys,
# then applies with `functions_deployed = true` (docs/OPERATIONS.md).
resource "aws_lambda_permission" "reconcile_schedule" {
  count         = var.functions_deployed ? 1 : 0
  statement_id  = "reconcile-schedule"
  action        = "lambda:InvokeFunction"
  function_name = local.functions.reconcile
  qualifier     = "live"
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconcile.arn
}
