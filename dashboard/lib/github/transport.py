"""Requests to GitHub's REST API: one session, timeouts from settings, retries of idempotent GETs only (on 5xx
and timeouts, with backoff), rate limits respected, and error answers turned into named exceptions.

https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
"""

import logging
import time
from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings

from dashboard.lib.github import budgets, credentials
from dashboard.lib.github.errors import (
    AppCredentialsRejected,
    BadCredentials,
    GitHubError,
    GitHubUnavailable,
    RateLimited,
    message,
    raise_for_status,
)

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
GET_ATTEMPTS = 3
BACKOFF_SECONDS = 0.25

# A GitHub REST answer: an object, or a list for a few endpoints.
JSON = dict[str, Any] | list[Any]

session = requests.Session()
session.headers.update({"User-Agent": "actions-dashboard", "X-GitHub-Api-Version": API_VERSION})


def send(method: str, url: str, *, token: str, identity: str | None = None, **kwargs: Any) -> requests.Response:
    """One request, with its credential's budget checked before and noted after; a GET is tried up to 3 times."""
    headers = {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    if identity:
        budgets.check(identity)
    attempts = GET_ATTEMPTS if method == "GET" else 1
    for attempt in range(1, attempts + 1):
        try:
            response = session.request(method, url, headers=headers, timeout=settings.GITHUB_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            failure: GitHubError = GitHubUnavailable(f"GitHub did not answer: {type(error).__name__}")
        else:
            if identity:
                budgets.note(identity, response)
            if response.status_code < 500:
                try:
                    raise_for_status(response)
                except RateLimited as limited:
                    if identity:
                        budgets.block(identity, limited.retry_at)
                    raise
                except BadCredentials as refused:
                    if identity and not identity.startswith("user:"):
                        credentials.forget(identity)
                        raise AppCredentialsRejected(str(refused), status=401) from refused
                    raise
                return response
            failure = GitHubUnavailable(message(response), status=response.status_code)
        if attempt < attempts:
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    logger.warning("GitHub %s %s failed after %d attempt(s): %s", method, url.split("?")[0], attempts, failure)
    raise failure


def api_url(path: str) -> str:
    return path if path.startswith("http") else f"{settings.GITHUB_API_URL}{path}"


def get(path: str, *, token: str, identity: str | None = None, params: dict[str, Any] | None = None) -> JSON:
    """One GET of a REST resource."""
    body: JSON = send("GET", api_url(path), token=token, identity=identity, params=params).json()
    return body


def post(
    path: str, *, token: str, identity: str | None = None, json: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """One POST; never retried, since GitHub may have acted on a request whose answer was lost."""
    response = send("POST", api_url(path), token=token, identity=identity, json=json)
    body: dict[str, Any] | None = response.json() if response.content else None
    return body


def paginate(
    path: str, *, token: str, identity: str | None = None, key: str | None = None, params: dict[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of a list endpoint, following `Link: rel="next"` (never building page URLs by hand: GitHub's
    later pages are `/repositories/{id}/...` URLs, not the path asked for).

    `key` names the list inside an object response (`repositories`, `workflow_runs`, ...).
    https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
    """
    params = {"per_page": 100, **(params or {})}
    yield from pages(api_url(path), token=token, identity=identity, key=key, params=params)


def pages(
    url: str | None, *, token: str, identity: str | None, key: str | None, params: dict[str, Any] | None
) -> Iterator[dict[str, Any]]:
    """The items of `url` and of every page its `next` links lead to."""
    while url:
        response = send("GET", url, token=token, identity=identity, params=params)
        body = response.json()
        yield from (body[key] if key else body)
        url = response.links.get("next", {}).get("url")
        params = None  # the next link carries them


def paginate_rest(
    next_url: str | None, *, token: str, identity: str | None, key: str | None
) -> Iterator[dict[str, Any]]:
    """The items of the pages after a first one fetched by `etags.get_if_changed`."""
    yield from pages(next_url, token=token, identity=identity, key=key, params=None)
