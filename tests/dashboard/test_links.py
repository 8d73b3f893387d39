"""Links from what GitHub sends become hrefs only when they are https:, or under GITHUB_URL (dashboard/lib/links.py)."""

import pytest

from dashboard.lib.links import safe_github_url


@pytest.mark.parametrize(
    "value",
    [
        "https://github.com/acme/api/actions/runs/1",
        "HTTPS://ghe.example.com/acme/api",
        "{github}/acme/api/actions/runs/1/job/2",  # the simulator, plain http
    ],
)
def test_it_keeps_links_to_github(settings, value):
    value = value.format(github=settings.GITHUB_URL)

    assert safe_github_url(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https:javascript:alert(1)",
        "http://github.com/acme/api",
        "//evil.example/acme/api",
        "/acme/api",
        "https://[::1",
        "{github}@evil.example/acme/api",  # GITHUB_URL as the user name of another host
    ],
)
def test_it_drops_anything_else(settings, value):
    value = value.format(github=settings.GITHUB_URL) if value else value

    assert safe_github_url(value) is None
