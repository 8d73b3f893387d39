"""The one GitHub client: REST calls and OAuth token refresh, on `requests`, against settings.GITHUB_API_URL.

Timeouts are set once, here. Only idempotent GETs are retried, and only on 5xx and timeouts, with backoff.
Failures callers handle become named exceptions; a response body becomes a plain dict or list at this boundary.
REST reference: https://docs.github.com/en/rest
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
GET_ATTEMPTS = 3
BACKOFF_SECONDS = 0.25

_session = requests.Session()
_session.headers.update({"User-Agent": "actions-dashboard", "X-GitHub-Api-Version": API_VERSION})


class GitHubError(Exception):
    """GitHub answered with an error, or did not answer."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class BadCredentials(GitHubError):
    """401: the token is unknown, expired or revoked."""


class NotFound(GitHubError):
    """404: the resource does not exist, or this token may not see it."""


class Forbidden(GitHubError):
    """403 that is not a rate limit: the token lacks a permission."""


class RateLimited(GitHubError):
    """403/429 for a primary or secondary rate limit; nothing may be sent before `retry_at`."""

    def __init__(self, message: str, *, status: int, retry_at: datetime):
        super().__init__(message, status=status)
        self.retry_at = retry_at


class Conflict(GitHubError):
    """409: the request conflicts with the resource's state (e.g. cancelling a completed run)."""


class ValidationFailed(GitHubError):
    """422: GitHub refused the request as invalid."""


class GitHubUnavailable(GitHubError):
    """5xx, a timeout or a connection failure: GitHub did not answer usefully."""


class OAuthRefused(GitHubError):
    """The OAuth endpoint refused a grant (`bad_refresh_token`, `bad_verification_code`, ...)."""

    def __init__(self, code: str, description: str = ""):
        super().__init__(f"{code}: {description}".rstrip(": "))
        self.code = code


def _retry_at(response: requests.Response) -> datetime:
    """When a rate-limited client may send again: retry-after, else x-ratelimit-reset, else a minute."""
    now = datetime.now(UTC)
    if response.headers.get("retry-after", "").isdigit():
        return now + timedelta(seconds=int(response.headers["retry-after"]))
    if response.headers.get("x-ratelimit-remaining") == "0" and response.headers.get("x-ratelimit-reset", "").isdigit():
        return datetime.fromtimestamp(int(response.headers["x-ratelimit-reset"]), UTC)
    return now + timedelta(seconds=60)


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"GitHub answered {response.status_code}"
    return body.get("message", f"GitHub answered {response.status_code}") if isinstance(body, dict) else ""


def _is_rate_limit(response: requests.Response) -> bool:
    if response.status_code == 429:
        return True
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in response.headers
        or "rate limit" in _message(response).lower()
    )


def raise_for_status(response: requests.Response) -> None:
    """Turn an error response into the named exception callers handle."""
    status = response.status_code
    if status < 400:
        return
    message = _message(response)
    if _is_rate_limit(response):
        raise RateLimited(message, status=status, retry_at=_retry_at(response))
    named = {401: BadCredentials, 403: Forbidden, 404: NotFound, 409: Conflict, 422: ValidationFailed}
    if status in named:
        raise named[status](message, status=status)
    if status >= 500:
        raise GitHubUnavailable(message, status=status)
    raise GitHubError(message, status=status)


def _send(method: str, url: str, *, token: str, **kwargs) -> requests.Response:
    headers = {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    attempts = GET_ATTEMPTS if method == "GET" else 1
    for attempt in range(1, attempts + 1):
        try:
            response = _session.request(method, url, headers=headers, timeout=settings.GITHUB_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            failure: GitHubError = GitHubUnavailable(f"GitHub did not answer: {type(error).__name__}")
        else:
            if response.status_code < 500:
                raise_for_status(response)
                return response
            failure = GitHubUnavailable(_message(response), status=response.status_code)
        if attempt < attempts:
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    logger.warning("GitHub %s %s failed after %d attempt(s): %s", method, url.split("?")[0], attempts, failure)
    raise failure


def api_url(path: str) -> str:
    return path if path.startswith("http") else f"{settings.GITHUB_API_URL}{path}"


def get(path: str, *, token: str, params: dict | None = None) -> dict | list:
    """One GET of a REST resource."""
    return _send("GET", api_url(path), token=token, params=params).json()


def post(path: str, *, token: str, json: dict | None = None) -> dict | None:
    """One POST; never retried, since GitHub may have acted on a request whose answer was lost."""
    response = _send("POST", api_url(path), token=token, json=json)
    return response.json() if response.content else None


def paginate(path: str, *, token: str, key: str | None = None, params: dict | None = None) -> Iterator[dict]:
    """Every item of a list endpoint, following `Link: rel="next"` (never building page URLs by hand).

    `key` names the list inside an object response (`repositories`, `workflow_runs`, ...).
    https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
    """
    url: str | None = api_url(path)
    params = {"per_page": 100, **(params or {})}
    while url:
        response = _send("GET", url, token=token, params=params)
        body = response.json()
        yield from (body[key] if key else body)
        url = response.links.get("next", {}).get("url")
        params = None  # the next link carries them


# --- Typed calls ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repository:
    id: int
    full_name: str
    private: bool
    default_branch: str
    html_url: str
    installation_id: int
    can_write: bool


def user_installations(token: str) -> list[dict]:
    """Installations of our GitHub App that the user can access.

    https://docs.github.com/en/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token
    """
    return list(paginate("/user/installations", token=token, key="installations"))


def user_installation_repositories(token: str, installation_id: int) -> list[Repository]:
    """Repositories of one installation that the user can access.

    https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-user-access-token
    """
    path = f"/user/installations/{installation_id}/repositories"
    return [
        Repository(
            id=repo["id"],
            full_name=repo["full_name"],
            private=repo["private"],
            default_branch=repo.get("default_branch") or "main",
            html_url=repo["html_url"],
            installation_id=installation_id,
            can_write=bool(repo.get("permissions", {}).get("push")),
        )
        for repo in paginate(path, token=token, key="repositories")
    ]


def user_repositories(token: str) -> list[Repository]:
    """Every repository the user can see through our App: the user's access intersected with the App's."""
    repos: dict[str, Repository] = {}
    for installation in user_installations(token):
        for repo in user_installation_repositories(token, installation["id"]):
            repos[repo.full_name] = repo
    return sorted(repos.values(), key=lambda repo: repo.full_name.lower())


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None

    @classmethod
    def from_response(cls, body: dict, *, now: datetime | None = None) -> "TokenGrant":
        now = now or datetime.now(UTC)

        def expiry(key: str) -> datetime | None:
            seconds = body.get(key)
            return now + timedelta(seconds=int(seconds)) if seconds else None

        return cls(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token", ""),
            access_expires_at=expiry("expires_in"),
            refresh_expires_at=expiry("refresh_token_expires_in"),
        )


def oauth_refresh(refresh_token: str) -> TokenGrant:
    """Trade a (single-use) refresh token for new user tokens.

    https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
    """
    try:
        response = _session.post(
            f"{settings.GITHUB_URL}/login/oauth/access_token",
            data={
                "client_id": settings.GITHUB_CLIENT_ID,
                "client_secret": settings.GITHUB_CLIENT_SECRET,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
            headers={"Accept": "application/json"},
            timeout=settings.GITHUB_TIMEOUT,
        )
    except requests.RequestException as error:
        raise GitHubUnavailable(f"GitHub did not answer: {type(error).__name__}") from error
    if response.status_code >= 500:
        raise GitHubUnavailable(_message(response), status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        raise GitHubUnavailable(f"GitHub answered {response.status_code} without JSON") from None
    # GitHub reports OAuth errors with status 200 and an `error` field.
    if "error" in body or "access_token" not in body:
        raise OAuthRefused(body.get("error", "no_access_token"), body.get("error_description", ""))
    return TokenGrant.from_response(body)
