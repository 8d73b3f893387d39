"""CloudFront sends the app's Content-Security-Policy with everything it serves: the app's answers, the static files,
and the error page from S3."""

from tests.conftest import PRODUCTION_ENV
from tests.infra.conftest import INFRA, edit
from tests.infra.terraform import csp_problems, load


def test_cloudfront_sends_the_policy_the_deployed_app_sends(run_manage):
    result = run_manage(
        "shell",
        "-c",
        "from dashboard.middleware import content_security_policy; print(content_security_policy())",
        env={**PRODUCTION_ENV, "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9"},
    )
    assert result.returncode == 0, result.stderr
    policy = result.stdout.strip().splitlines()[-1]

    assert "script-src 'self';" in policy
    assert csp_problems(INFRA, policy) == []


def _policy() -> str:
    return load(INFRA).locals["content_security_policy"]


def test_it_fails_when_cloudfront_loosens_the_policy(infra_copy):
    edit(infra_copy / "cdn.tf", "script-src 'self';", "script-src 'self' 'unsafe-inline';")

    problems = csp_problems(infra_copy, _policy())

    assert len(problems) == 3
    assert all("'unsafe-inline'" in problem for problem in problems)


def test_it_fails_when_a_response_headers_policy_sends_none(infra_copy):
    block = """
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
"""
    edit(infra_copy / "cdn.tf", block, "")  # the first is the static files' policy

    assert csp_problems(infra_copy, _policy()) == [
        "response headers policy immutable: sends no Content-Security-Policy"
    ]
