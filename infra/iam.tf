# One role per Lambda function, each with only what its code calls (tests/infra/test_iam.py holds these policies
# against the list of what each function needs). Zappa's own role management is off (`manage_roles: false`):
# its default policy grants `dynamodb:*`, `s3:*` and more.

locals {
  item_actions = [
    "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
    "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
  ]
  # Envelope encryption of users' tokens: a data key to seal, Decrypt to open (accounts/crypto.py).
  tokens_key_actions = ["kms:Decrypt", "kms:GenerateDataKey"]
  # Secrets at start-up (dashboard/lib/parameters.py): SecureStrings under AWS's `aws/ssm` key, usable through SSM.
  ssm_path_arn = "arn:aws:ssm:${var.region}:${local.account_id}:parameter${local.ssm_path}"
  # Posting to and closing browser sockets through the WebSocket API's management endpoint.
  socket_arns = [
    "${aws_apigatewayv2_api.ws.execution_arn}/${local.websocket_stage}/POST/@connections/*",
    "${aws_apigatewayv2_api.ws.execution_arn}/${local.websocket_stage}/DELETE/@connections/*",
  ]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Logs: each function writes only its own log group (observability.tf, with retention and encryption), and
# nothing else in CloudWatch: metrics leave as embedded-metric-format log lines.

# The Django app: every table (pages, API, webhooks, sign-in, sessions, live updates).
data "aws_iam_policy_document" "app" {
  # Items only: no table management, no `dynamodb:*`. Transactions are authorized item by item by these actions.
  statement {
    sid     = "Items"
    actions = local.item_actions
    resources = [
      aws_dynamodb_table.connections.arn,
      "${aws_dynamodb_table.connections.arn}/index/*",
      aws_dynamodb_table.events.arn,
      aws_dynamodb_table.github_state.arn,
      aws_dynamodb_table.repo_summaries.arn,
      aws_dynamodb_table.sessions.arn,
      "${aws_dynamodb_table.sessions.arn}/index/*",
      aws_dynamodb_table.subscriptions.arn,
      aws_dynamodb_table.user_settings.arn,
      aws_dynamodb_table.users.arn,
      aws_dynamodb_table.webhook_deliveries.arn,
      aws_dynamodb_table.workflow_cache.arn,
      "${aws_dynamodb_table.workflow_cache.arn}/index/*",
      aws_dynamodb_table.workflow_jobs.arn,
    ]
  }

  # Only reconciliation and the installation webhook walk every open connection (realtime/gateway.py).
  statement {
    sid       = "ScanConnections"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.connections.arn]
  }

  # GET /healthz asks DynamoDB to describe one table.
  statement {
    sid       = "HealthCheck"
    actions   = ["dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.workflow_cache.arn]
  }

  statement {
    sid       = "TokensKey"
    actions   = local.tokens_key_actions
    resources = [aws_kms_key.tokens.arn]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParametersByPath"]
    resources = [local.ssm_path_arn]
  }

  statement {
    sid       = "Sockets"
    actions   = ["execute-api:ManageConnections"]
    resources = local.socket_arns
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }
}

resource "aws_iam_role" "app" {
  name               = local.roles.app
  description        = "The app Lambda function of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "app" {
  name   = local.roles.app
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app.json
}

# Reconciliation: re-reads runs and their jobs, redelivers deliveries, re-checks live subscriptions against
# users' access (which may refresh or end a user's token and sessions). Never user settings.
data "aws_iam_policy_document" "reconcile" {
  # Items only: no table management, no `dynamodb:*`. Transactions are authorized item by item by these actions.
  statement {
    sid     = "Items"
    actions = local.item_actions
    resources = [
      aws_dynamodb_table.connections.arn,
      "${aws_dynamodb_table.connections.arn}/index/*",
      aws_dynamodb_table.events.arn,
      aws_dynamodb_table.github_state.arn,
      aws_dynamodb_table.repo_summaries.arn,
      aws_dynamodb_table.sessions.arn,
      "${aws_dynamodb_table.sessions.arn}/index/*",
      aws_dynamodb_table.subscriptions.arn,
      aws_dynamodb_table.users.arn,
      aws_dynamodb_table.webhook_deliveries.arn,
      aws_dynamodb_table.workflow_cache.arn,
      "${aws_dynamodb_table.workflow_cache.arn}/index/*",
      aws_dynamodb_table.workflow_jobs.arn,
    ]
  }

  # Only reconciliation and the installation webhook walk every open connection (realtime/gateway.py).
  statement {
    sid       = "ScanConnections"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.connections.arn]
  }

  statement {
    sid       = "TokensKey"
    actions   = local.tokens_key_actions
    resources = [aws_kms_key.tokens.arn]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParametersByPath"]
    resources = [local.ssm_path_arn]
  }

  statement {
    sid       = "Sockets"
    actions   = ["execute-api:ManageConnections"]
    resources = local.socket_arns
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.reconcile.arn}:*"]
  }
}

resource "aws_iam_role" "reconcile" {
  name               = local.roles.reconcile
  description        = "The reconcile Lambda function of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "reconcile" {
  name   = local.roles.reconcile
  role   = aws_iam_role.reconcile.id
  policy = data.aws_iam_policy_document.reconcile.json
}

# The WebSocket function: $connect (session, user), subscriptions checked against the user's visibility
# (through their token), $disconnect.
data "aws_iam_policy_document" "ws" {
  # Items only: no table management, no `dynamodb:*`. Transactions are authorized item by item by these actions.
  statement {
    sid     = "Items"
    actions = local.item_actions
    resources = [
      aws_dynamodb_table.connections.arn,
      "${aws_dynamodb_table.connections.arn}/index/*",
      aws_dynamodb_table.github_state.arn,
      aws_dynamodb_table.sessions.arn,
      "${aws_dynamodb_table.sessions.arn}/index/*",
      aws_dynamodb_table.subscriptions.arn,
      aws_dynamodb_table.users.arn,
    ]
  }

  statement {
    sid       = "TokensKey"
    actions   = local.tokens_key_actions
    resources = [aws_kms_key.tokens.arn]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParametersByPath"]
    resources = [local.ssm_path_arn]
  }

  statement {
    sid       = "Sockets"
    actions   = ["execute-api:ManageConnections"]
    resources = local.socket_arns
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ws.arn}:*"]
  }
}

resource "aws_iam_role" "ws" {
  name               = local.roles.ws
  description        = "The ws Lambda function of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "ws" {
  name   = local.roles.ws
  role   = aws_iam_role.ws.id
  policy = data.aws_iam_policy_document.ws.json
}

# The stream function: the events table's stream, batch by batch (pipeline/), to the sockets subscribed to each
# change's repository. Lambda reads the stream and parks what fails with this role too, not with one of its own.
data "aws_iam_policy_document" "stream" {
  # What Lambda's event source mapping calls to read the stream (infra/stream.tf), on this table's stream only, as
  # AWS's own example policy for a stream-triggered function scopes them.
  statement {
    sid       = "ReadStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
    resources = [aws_dynamodb_table.events.stream_arn]
  }

  # Events beside the batch (pipeline/): read by Query, never written (the app writes them, with the change).
  statement {
    sid       = "ReadEvents"
    actions   = ["dynamodb:Query"]
    resources = [aws_dynamodb_table.events.arn]
  }

  # Fan-out: the connections subscribed to a change's repository (realtime/gateway.py: fan_out).
  statement {
    sid       = "Subscribers"
    actions   = ["dynamodb:Query"]
    resources = [aws_dynamodb_table.subscriptions.arn]
  }

  # A connection API Gateway says is gone (410) is forgotten, and its subscriptions with it
  # (realtime/gateway.py: connection_forget). Never a new connection or subscription: those are the ws function's.
  statement {
    sid       = "ForgetGoneConnections"
    actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.connections.arn, aws_dynamodb_table.subscriptions.arn]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParametersByPath"]
    resources = [local.ssm_path_arn]
  }

  # Posting only: closing a socket (DELETE) is for the app and the ws function, at logout or when access ends.
  statement {
    sid       = "Sockets"
    actions   = ["execute-api:ManageConnections"]
    resources = ["${aws_apigatewayv2_api.ws.execution_arn}/${local.websocket_stage}/POST/@connections/*"]
  }

  # Lambda's on-failure destination for a stream source sends with the function's execution role.
  statement {
    sid       = "ParkFailures"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.stream_failures.arn]
  }

  # The failure queue is encrypted under the data key: a sender needs both actions (SQS's server-side encryption
  # documentation), and only through SQS, so the role can decrypt nothing else under that key.
  statement {
    sid       = "FailureQueueKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${var.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.stream.arn}:*"]
  }
}

resource "aws_iam_role" "stream" {
  name               = local.roles.stream
  description        = "The stream Lambda function of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "stream" {
  name   = local.roles.stream
  role   = aws_iam_role.stream.id
  policy = data.aws_iam_policy_document.stream.json
}

# API Gateway invokes the functions through this role rather than through permissions on the functions, so
# Terraform can wire both APIs before Zappa has created the functions.
data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    # No aws:SourceAccount condition: it is reported not to be set when API Gateway assumes an integration's
    # credentials role, which would refuse every request (a 500). The role can only invoke this stage's aliases.
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigateway_invoke" {
  name               = "${local.name}-apigateway-invoke"
  description        = "Lets the HTTP and WebSocket APIs of ${local.name} invoke their functions"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

data "aws_iam_policy_document" "apigateway_invoke" {
  statement {
    sid       = "Invoke"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.live_arns.app, local.live_arns.ws]
  }
}

resource "aws_iam_role_policy" "apigateway_invoke" {
  name   = "${local.name}-apigateway-invoke"
  role   = aws_iam_role.apigateway_invoke.id
  policy = data.aws_iam_policy_document.apigateway_invoke.json
}

# The delivery pipeline (.github/workflows/) assumes this role through GitHub's OIDC provider, only from this
# repository's GitHub environment of the same name as the stage (prod's needs an approval).
data "aws_iam_openid_connect_provider" "github" {
  url = "https://token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [data.aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${local.stage}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${local.name}-deploy"
  description          = "The delivery pipeline's role for ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "deploy" {
  name   = "${local.name}-deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

# Exactly the actions the release script and the Zappa commands it runs call, as the deploy rehearsal records them
# against a local AWS API (devstack/rehearsal.py, run by `make test`: a missing or an unused action fails it).
data "aws_iam_policy_document" "deploy" {
  # Release zips and manifests: written once per release, read back to deploy or roll back.
  statement {
    sid       = "Artifacts"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/releases/*"]
  }

  # The artifacts bucket is encrypted with this key: S3 asks it for each object written and read.
  statement {
    sid       = "ArtifactsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]
  }

  # collectstatic's output; nothing is ever deleted, so a rolled-back release still finds its hashed files.
  statement {
    sid       = "StaticFiles"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.static.arn}/static/*", "${aws_s3_bucket.static.arn}/errors/*"]
  }

  statement {
    sid       = "Invalidate"
    actions   = ["cloudfront:CreateInvalidation"]
    resources = [aws_cloudfront_distribution.site.arn]
  }

  # `zappa deploy` (first time) and `zappa update --zip` of each function, then the release script's own calls:
  # a version published, invoked with its checks, and the `live` and `previous` aliases moved. Zappa reads an
  # alias of its own on every update (lambda:GetAlias) and deletes versions past num_retained_versions.
  statement {
    sid = "Functions"
    actions = [
      "lambda:CreateAlias", "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency",
      "lambda:GetAlias", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:InvokeFunction",
      "lambda:ListFunctionUrlConfigs", "lambda:ListVersionsByFunction", "lambda:PublishVersion",
      "lambda:PutFunctionConcurrency", "lambda:UpdateAlias", "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
    ]
    resources = [
      local.function_arns.app, "${local.function_arns.app}:*",
      local.function_arns.reconcile, "${local.function_arns.reconcile}:*",
      local.function_arns.ws, "${local.function_arns.ws}:*",
      local.function_arns.stream, "${local.function_arns.stream}:*",
    ]
  }

  statement {
    sid       = "ReadRoles"
    actions   = ["iam:GetRole"]
    resources = [aws_iam_role.app.arn, aws_iam_role.reconcile.arn, aws_iam_role.ws.arn, aws_iam_role.stream.arn]
  }

  # Handed to Lambda only: the schedule is Terraform's (schedule.tf), so no role goes to EventBridge.
  statement {
    sid       = "PassRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.app.arn, aws_iam_role.reconcile.arn, aws_iam_role.ws.arn, aws_iam_role.stream.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }
}
