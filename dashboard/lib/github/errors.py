"""What GitHub's error answers become: one named exception per case a caller handles.

https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
"""

from datetime import UTC, datetime, timedelta

import requests


class GitHubError(Exception):
    """GitHub answered with an error, or did not answer."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class BadCredentials(GitHubError):
    """401: the token is unknown, expired or revoked."""


class AppCredentialsRejected(GitHubError):
    """401 for the App's own JWT or an installation token: the cached one is dropped, the next call gets a new one.

    Distinct from BadCredentials on purpose: only a user token's 401 means the user's authorization has ended.
    """


class NotFound(GitHubError):
    """404: the resource does not exist, or this token may not see it."""


class Forbidden(GitHubError):
    """403 that is not a rate limit: the token lacks a permission."""


class Conflict(GitHubError):
    """409: the request conflicts with the resource's state (e.g. cancelling a completed run)."""


class ValidationFailed(GitHubError):
    """422: GitHub refused the request as invalid."""


class Unavailable(GitHubError):
    """GitHub cannot be asked now: it is not answering usefully, or its rate limit says to wait. With
    AppCredentialsRejected, what callers catch as "cannot ask GitHub now" (`CANNOT_ASK`)."""


class RateLimited(Unavailable):
    """403/429 for a primary or secondary rate limit; nothing may be sent before `retry_at`."""

    reason = "GitHub's rate limit is reached"  # what the user is told, with until when

    def __init__(self, message: str, *, status: int, retry_at: datetime):
        super().__init__(message, status=status)
        self.retry_at = retry_at


class GitHubUnavailable(Unavailable):
    """5xx, a timeout or a connection failure: GitHub did not answer usefully."""


class OAuthRefused(GitHubError):
    """The OAuth endpoint refused a grant (`bad_refresh_token`, `bad_verification_code`, ...)."""

    def __init__(self, code: str, description: str = ""):
        super().__init__(f"{code}: {description}".rstrip(": "))
        self.code = code


def header_number(text: str | None) -> int | None:
    """A header's whole number, or None for anything else (`str.isdigit` would take "²", which `int` refuses)."""
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def epoch(seconds: int | None) -> datetime | None:
    """A Unix time as UTC, or None for none or one no calendar holds."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def retry_at(response: requests.Response) -> datetime:
    """When a rate-limited client may send again: retry-after, else x-ratelimit-reset, else a minute.

    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#handle-rate-limit-errors-appropriately
    """
    now = datetime.now(UTC)
    wait = header_number(response.headers.get("retry-after"))
    if wait is not None and wait <= 86_400:
        return now + timedelta(seconds=wait)
    reset = epoch(header_number(response.headers.get("x-ratelimit-reset")))
    if response.headers.get("x-ratelimit-remaining") == "0" and reset is not None:
        return reset
    return now + timedelta(seconds=60)


def message(response: requests.Response) -> str:
    """GitHub's own wording of an error (its `message`), or the status."""
    try:
        body = response.json()
    except ValueError:
        return f"GitHub answered {response.status_code}"
    return body.get("message", f"GitHub answered {response.status_code}") if isinstance(body, dict) else ""


def is_rate_limit(response: requests.Response) -> bool:
    if response.status_code == 429:
        return True
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in response.headers
        or "rate limit" in message(response).lower()
    )


def raise_for_status(response: requests.Response) -> None:
    """Turn an error response into the named exception callers handle."""
    status = response.status_code
    if status < 400:
        return
    text = message(response)
    if is_rate_limit(response):
        raise RateLimited(text, status=status, retry_at=retry_at(response))
    named = {401: BadCredentials, 403: Forbidden, 404: NotFound, 409: Conflict, 422: ValidationFailed}
    if status in named:
        raise named[status](text, status=status)
    if status >= 500:
        raise GitHubUnavailable(text, status=status)
    raise GitHubError(text, status=status)


# What "GitHub cannot be asked now" is, to a caller: no answer, a rate limit, or the App's own credentials refused
# (a new token is made on the next call). Pages show it as such; reads serve what is stored, marked stale.
CANNOT_ASK = (Unavailable, AppCredentialsRejected)
