# One host name per stage, served by CloudFront:
#   /static/*  collectstatic's hashed files, from S3 through origin access control: cached for a year, immutable
#   /errors/*  the page shown when the app cannot answer, from S3: HTML, revalidated on every use
#   /ws        the WebSocket API (its stage is named `ws`, so the path reaches it unchanged)
#   *          the Django app, through the HTTP API's custom domain: never cached by CloudFront; HTML it sends
#              without a Cache-Control of its own gets `max-age=0, must-revalidate`

resource "aws_s3_bucket" "static" {
  bucket = "${local.name}-static-${local.account_id}"
  #checkov:skip=CKV_AWS_144:Cross-region replication: every file here is rebuilt from the repository by collectstatic.
  #checkov:skip=CKV_AWS_18:Access logging: the files are public through CloudFront, which is where requests are seen.
  #checkov:skip=CKV2_AWS_62:Event notifications: nothing reacts to a new static file.
  #checkov:skip=CKV2_AWS_61:Lifecycle: hashed files of earlier releases are kept so that a rollback finds them; they are small.
  #checkov:skip=CKV_AWS_145:Encrypted with S3's own keys (SSE-S3), not KMS: the files are public, and CloudFront's origin access control would otherwise need a grant on a key.
}

resource "aws_s3_bucket_versioning" "static" {
  bucket = aws_s3_bucket.static.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "static" {
  bucket = aws_s3_bucket.static.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "static" {
  bucket                  = aws_s3_bucket.static.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "static" {
  bucket = aws_s3_bucket.static.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_cloudfront_origin_access_control" "static" {
  name                              = "${local.name}-static"
  description                       = "CloudFront reads ${aws_s3_bucket.static.bucket}"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_s3_bucket_policy" "static" {
  bucket = aws_s3_bucket.static.id
  policy = data.aws_iam_policy_document.static_bucket.json
}

data "aws_iam_policy_document" "static_bucket" {
  statement {
    sid       = "CloudFrontReads"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.static.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.site.arn]
    }
  }

  statement {
    sid       = "TLSOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.static.arn, "${aws_s3_bucket.static.arn}/*"]

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

# --- Cache and response rules ----------------------------------------------------------------------------------

# Hashed names change with their content, so a year is safe; nothing of the request varies the answer.
resource "aws_cloudfront_cache_policy" "immutable" {
  name        = "${local.name}-immutable"
  comment     = "Hashed static files: one year"
  min_ttl     = 31536000
  default_ttl = 31536000
  max_ttl     = 31536000

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# HTML from S3: CloudFront asks the origin again on every use (S3 answers 304 when unchanged), following the
# objects' own `max-age=0, must-revalidate`. max_ttl is 1, not 0: with every TTL 0 caching is disabled, and
# CloudFront then refuses a policy that puts Accept-Encoding in the key (no compression).
resource "aws_cloudfront_cache_policy" "revalidate" {
  name        = "${local.name}-revalidate"
  comment     = "HTML: max-age=0, must-revalidate"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = 1

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "none"
    }

    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# The Content-Security-Policy the app sends when GitHub is github.com (SECURE_CSP in dashboard/settings.py; a test
# keeps the two equal). CloudFront sends it with everything S3 serves, and with any answer of the app that has none;
# the app's own is kept (`override = false`), since on GitHub Enterprise Server it names that server's avatars.
locals {
  content_security_policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https://avatars.githubusercontent.com; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
}

resource "aws_cloudfront_response_headers_policy" "immutable" {
  name    = "${local.name}-immutable"
  comment = "Hashed static files"

  custom_headers_config {
    items {
      header   = "Cache-Control"
      value    = "public, max-age=31536000, immutable"
      override = true
    }
  }

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
  }
}

# For HTML: the app's own Cache-Control (`private, no-store` for signed-in users) and Content-Security-Policy are
# kept; HTML without a Cache-Control must be revalidated on every use. HSTS and nosniff are the ones Django sends too.
resource "aws_cloudfront_response_headers_policy" "html" {
  name    = "${local.name}-html"
  comment = "HTML: max-age=0, must-revalidate unless the app says otherwise"

  custom_headers_config {
    items {
      header   = "Cache-Control"
      value    = "max-age=0, must-revalidate"
      override = false
    }
  }

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = false
    }
  }
}

# The HTML error page from S3 is revalidated whatever S3 says.
resource "aws_cloudfront_response_headers_policy" "html_from_s3" {
  name    = "${local.name}-html-from-s3"
  comment = "Static HTML: max-age=0, must-revalidate"

  custom_headers_config {
    items {
      header   = "Cache-Control"
      value    = "max-age=0, must-revalidate"
      override = true
    }
  }

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
  }
}

# AWS's managed policies, by their documented ids.
locals {
  caching_disabled_policy_id = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" # Managed-CachingDisabled
  # The app: everything the browser sent, the Host included, which the HTTP API's custom domain matches.
  all_viewer_policy_id = "216adef6-5c7f-47e4-b989-5492eafa07d3" # Managed-AllViewer
  # The WebSocket API: cookies (the session), Origin and the Sec-WebSocket-* headers, but its own Host.
  all_viewer_except_host_policy_id = "b689b0a8-53d0-40ab-baf2-68738e2966ac" # Managed-AllViewerExceptHostHeader
}

# --- The distribution --------------------------------------------------------------------------------------------

resource "aws_cloudfront_distribution" "site" {
  enabled         = true
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = "PriceClass_100"
  comment         = local.name
  aliases         = [local.domain]
  #checkov:skip=CKV_AWS_68:WAF: every page needs a session and every webhook an HMAC signature, and API Gateway throttles per stage; a web ACL (about $6 a month before requests) is the next step if abuse appears.
  #checkov:skip=CKV2_AWS_47:WAF's Log4j rule: there is no web ACL (see CKV_AWS_68), and no Java behind this distribution.
  #checkov:skip=CKV_AWS_86:Access logs: API Gateway's access logs (apigateway.tf) record every request to the app and the sockets; static files need no log.
  #checkov:skip=CKV_AWS_374:Geo restriction: the dashboard is for its users wherever they are.
  #checkov:skip=CKV_AWS_305:No default root object: `/` is the app's front page, answered by Django.
  #checkov:skip=CKV_AWS_310:Origin failover: one region by design (docs/OPERATIONS.md, RTO); when the app cannot answer, CloudFront shows the static error page from S3.

  origin {
    origin_id   = "app"
    domain_name = aws_apigatewayv2_domain_name.app.domain_name_configuration[0].target_domain_name

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      origin_read_timeout    = 30
    }
  }

  origin {
    origin_id   = "ws"
    domain_name = "${aws_apigatewayv2_api.ws.id}.execute-api.${var.region}.amazonaws.com"

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  origin {
    origin_id                = "static"
    domain_name              = aws_s3_bucket.static.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.static.id
  }

  default_cache_behavior {
    target_origin_id           = "app"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled_policy_id
    origin_request_policy_id   = local.all_viewer_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.html.id
    compress                   = true
  }

  ordered_cache_behavior {
    path_pattern               = "/static/*"
    target_origin_id           = "static"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = aws_cloudfront_cache_policy.immutable.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.immutable.id
    compress                   = true
  }

  ordered_cache_behavior {
    path_pattern               = "/errors/*"
    target_origin_id           = "static"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = aws_cloudfront_cache_policy.revalidate.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.html_from_s3.id
    compress                   = true
  }

  ordered_cache_behavior {
    path_pattern               = "/ws"
    target_origin_id           = "ws"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled_policy_id
    origin_request_policy_id   = local.all_viewer_except_host_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.html.id
    compress                   = false
  }

  # When the app cannot answer, a plain page from S3 says so (and the browser's live client retries).
  dynamic "custom_error_response" {
    for_each = [502, 503, 504]

    content {
      error_code            = custom_error_response.value
      response_code         = custom_error_response.value
      response_page_path    = "/errors/unavailable.html"
      error_caching_min_ttl = 10
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = aws_acm_certificate_validation.cloudfront.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}
