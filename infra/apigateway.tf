# Two APIs, both behind CloudFront on the app's own host (cdn.tf): the HTTP API serves the Django app, the
# WebSocket API the browsers' live sockets at `/ws`. Terraform owns both (`apigateway_enabled: false` in
# zappa_settings.json): Zappa would create a REST API (3.5 times the price per request) outside these checks.

# --- HTTP API: the app ---------------------------------------------------------------------------------------

resource "aws_apigatewayv2_api" "app" {
  name          = local.name
  protocol_type = "HTTP"
  description   = "The Django app of ${local.name}"
  # Reached only through its custom domain (so Django sees the real host and no stage prefix) via CloudFront.
  disable_execute_api_endpoint = true
}

resource "aws_apigatewayv2_integration" "app" {
  api_id                 = aws_apigatewayv2_api.app.id
  integration_type       = "AWS_PROXY"
  integration_uri        = local.live_arns.app
  credentials_arn        = aws_iam_role.apigateway_invoke.arn
  payload_format_version = "2.0"
  # API Gateway's limit; the webhook receiver answers within 8 seconds whatever happens (webhooks/views.py).
  timeout_milliseconds = 30000
}

resource "aws_apigatewayv2_route" "app" {
  api_id    = aws_apigatewayv2_api.app.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.app.id}"
  #checkov:skip=CKV_AWS_309:Django authenticates (session cookie, CSRF) and webhooks are HMAC-verified; an API Gateway authorizer would add a Lambda call to every request, public pages included.
}

resource "aws_apigatewayv2_stage" "app" {
  api_id      = aws_apigatewayv2_api.app.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = 200
    throttling_rate_limit  = 100
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access["app"].arn
    format          = local.http_access_log_format
  }
}

resource "aws_apigatewayv2_domain_name" "app" {
  domain_name = local.domain

  domain_name_configuration {
    certificate_arn = aws_acm_certificate_validation.regional.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
}

resource "aws_apigatewayv2_api_mapping" "app" {
  api_id      = aws_apigatewayv2_api.app.id
  domain_name = aws_apigatewayv2_domain_name.app.id
  stage       = aws_apigatewayv2_stage.app.id
}

# --- WebSocket API: live updates ------------------------------------------------------------------------------

resource "aws_apigatewayv2_api" "ws" {
  name          = "${local.name}-ws"
  protocol_type = "WEBSOCKET"
  description   = "Live updates of ${local.name}: every message goes to $default (realtime/lambda_ws.py)"
  # No route matches a message's `type`, so every message reaches $default.
  route_selection_expression = "$request.body.action"
}

resource "aws_apigatewayv2_integration" "ws" {
  api_id             = aws_apigatewayv2_api.ws.id
  integration_type   = "AWS_PROXY"
  integration_uri    = local.live_arns.ws
  integration_method = "POST"
  credentials_arn    = aws_iam_role.apigateway_invoke.arn
}

resource "aws_apigatewayv2_route" "ws_connect" {
  api_id    = aws_apigatewayv2_api.ws.id
  route_key = "$connect"
  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"
  #checkov:skip=CKV_AWS_309:$connect authenticates by the session cookie and checks the Origin in the handler itself (realtime/lambda_ws.py); an authorizer would be a second Lambda cold start per connection.
}

resource "aws_apigatewayv2_route" "ws_disconnect" {
  api_id    = aws_apigatewayv2_api.ws.id
  route_key = "$disconnect"
  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"
  #checkov:skip=CKV_AWS_309:API Gateway allows an authorizer on $connect only; a connection reaching $disconnect was authenticated on $connect.
}

resource "aws_apigatewayv2_route" "ws_default" {
  api_id    = aws_apigatewayv2_api.ws.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.ws.id}"
  #checkov:skip=CKV_AWS_309:API Gateway allows an authorizer on $connect only; messages arrive on a connection authenticated on $connect, and each is checked against the recorded connection.
}

resource "aws_apigatewayv2_stage" "ws" {
  #checkov:skip=CKV2_AWS_51:Client certificates: the clients are browsers, which cannot present one; sockets are authenticated by the session cookie on $connect.
  api_id      = aws_apigatewayv2_api.ws.id
  name        = local.websocket_stage
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = 500
    throttling_rate_limit  = 200
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access["ws"].arn
    format          = local.websocket_access_log_format
  }
}

locals {
  # Who, what and how it went; never headers, cookies or bodies. Each API type has its own context variables:
  # an HTTP API refuses a format naming WebSocket-only ones ($context.connectionId, $context.eventType).
  http_access_log_format = jsonencode({
    requestId      = "$context.requestId"
    routeKey       = "$context.routeKey"
    status         = "$context.status"
    latencyMs      = "$context.integrationLatency"
    error          = "$context.error.message"
    integrationErr = "$context.integrationErrorMessage"
  })
  websocket_access_log_format = jsonencode({
    requestId      = "$context.requestId"
    routeKey       = "$context.routeKey"
    status         = "$context.status"
    latencyMs      = "$context.integrationLatency"
    connectionId   = "$context.connectionId"
    eventType      = "$context.eventType"
    error          = "$context.error.message"
    integrationErr = "$context.integrationErrorMessage"
  })

  # What the functions post to (WEBSOCKET_API_ENDPOINT, through SSM: parameters.tf).
  websocket_management_endpoint = "https://${aws_apigatewayv2_api.ws.id}.execute-api.${var.region}.amazonaws.com/${local.websocket_stage}"
}
