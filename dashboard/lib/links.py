"""Links to GitHub from what GitHub sends: the `html_url` of repositories, runs and jobs.

Such a value becomes an `href` only through `safe_github_url`: an `https:` URL, or one under GITHUB_URL (the local
simulator's is plain `http:`). Anything else, `javascript:` and `data:` among them, is shown as no link at all.
"""

from urllib.parse import urlsplit

from django.conf import settings


def safe_github_url(value: str | None) -> str | None:
    """`value` if a page may link to it, else None."""
    if not value:
        return None
    if value.startswith(f"{settings.GITHUB_URL}/"):
        return value
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced IPv6 bracket, for one
        return None
    return value if parts.scheme == "https" and parts.netloc else None
