"""The one GitHub client: REST calls, App authentication and OAuth token refresh, on `requests`.

Timeouts are set once, here. Only idempotent GETs are retried, and only on 5xx and timeouts, with backoff.
Rate limits are respected: once GitHub says a credential is limited, nothing more is sent with it until the
reset (other containers learn it from DynamoDB). Conditional requests reuse stored ETags, so unchanged data
costs nothing. Failures callers handle become named exceptions; a body becomes a plain dict or list here.
REST reference: https://docs.github.com/en/rest
"""

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings

from dashboard import metrics

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


class AppCredentialsRejected(GitHubError):
    """401 for the App's own JWT or an installation token: the cached one is dropped, the next call gets a new one.

    Distinct from BadCredentials on purpose: only a user token's 401 means the user's authorization has ended.
    """


class NotFound(GitHubError):
    """404: the resource does not exist, or this token may not see it."""


class Forbidden(GitHubError):
    """403 that is not a rate limit: the token lacks a permission."""


class RateLimited(GitHubError):
    """403/429 for a primary or secondary rate limit; nothing may be sent before `retry_at`."""

    reason = "GitHub's rate limit is reached"  # what the user is told, with until when

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


# --- Rate limits ------------------------------------------------------------------------------------------------


@dataclass
class Budget:
    """What GitHub last said about one credential's rate limit."""

    remaining: int | None = None
    limit: int | None = None
    reset_at: datetime | None = None
    blocked_until: datetime | None = None
    checked_shared: bool = False  # whether this container has read what other containers know

    def as_json(self) -> dict:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "remaining": self.remaining,
            "limit": self.limit,
            "reset_at": iso(self.reset_at),
            "blocked_until": iso(self.blocked_until),
        }


_budgets: dict[str, Budget] = {}
_budgets_lock = threading.Lock()


def budget(identity: str) -> Budget:
    """The rate-limit budget of one credential (`user:<id>`, `installation:<id>`, `app`), as last seen."""
    with _budgets_lock:
        return _budgets.setdefault(identity, Budget())


def _shared_block(identity: str) -> datetime | None:
    from dashboard.models import GitHubState

    try:
        return GitHubState.get(f"budget#{identity}").blocked_until
    except GitHubState.DoesNotExist:
        return None


def _check_budget(identity: str) -> None:
    """Refuse to send while the credential is rate limited, here or (as another container found) elsewhere."""
    current = budget(identity)
    if not current.checked_shared:
        current.blocked_until = max(filter(None, [current.blocked_until, _shared_block(identity)]), default=None)
        current.checked_shared = True
    if current.blocked_until and current.blocked_until > datetime.now(UTC):
        raise RateLimited(
            f"rate limited until {current.blocked_until.isoformat()}", status=429, retry_at=current.blocked_until
        )


def _note_budget(identity: str, response: requests.Response) -> None:
    headers = response.headers
    current = budget(identity)
    if headers.get("x-ratelimit-remaining", "").isdigit():
        current.remaining = int(headers["x-ratelimit-remaining"])
        # By kind of credential (`user`, `installation`, `app`), never by id: a dimension per user would be a
        # metric per user.
        metrics.emit({"GitHubRateLimitRemaining": current.remaining}, dimensions={"Credential": identity.split(":")[0]})
    if headers.get("x-ratelimit-limit", "").isdigit():
        current.limit = int(headers["x-ratelimit-limit"])
    if headers.get("x-ratelimit-reset", "").isdigit():
        current.reset_at = datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), UTC)


def _block(identity: str, until: datetime) -> None:
    from dashboard.models import GitHubState

    budget(identity).blocked_until = until
    GitHubState(key=f"budget#{identity}", blocked_until=until, updated_at=datetime.now(UTC), expires_at=until).save()
    logger.warning("GitHub rate limit for %s: nothing will be sent until %s", identity, until.isoformat())


# --- Transport ---------------------------------------------------------------------------------------------------


def _send(method: str, url: str, *, token: str, identity: str | None = None, **kwargs) -> requests.Response:
    headers = {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    if identity:
        _check_budget(identity)
    attempts = GET_ATTEMPTS if method == "GET" else 1
    for attempt in range(1, attempts + 1):
        try:
            response = _session.request(method, url, headers=headers, timeout=settings.GITHUB_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            failure: GitHubError = GitHubUnavailable(f"GitHub did not answer: {type(error).__name__}")
        else:
            if identity:
                _note_budget(identity, response)
            if response.status_code < 500:
                try:
                    raise_for_status(response)
                except RateLimited as limited:
                    if identity:
                        _block(identity, limited.retry_at)
                    raise
                except BadCredentials as refused:
                    if identity and not identity.startswith("user:"):
                        _forget_app_token(identity)
                        raise AppCredentialsRejected(str(refused), status=401) from refused
                    raise
                return response
            failure = GitHubUnavailable(_message(response), status=response.status_code)
        if attempt < attempts:
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    logger.warning("GitHub %s %s failed after %d attempt(s): %s", method, url.split("?")[0], attempts, failure)
    raise failure


def api_url(path: str) -> str:
    return path if path.startswith("http") else f"{settings.GITHUB_API_URL}{path}"


def get(path: str, *, token: str, identity: str | None = None, params: dict | None = None) -> dict | list:
    """One GET of a REST resource."""
    return _send("GET", api_url(path), token=token, identity=identity, params=params).json()


@dataclass(frozen=True)
class Page:
    body: dict | list
    next_url: str | None
    etag_key: str | None = None
    etag: str | None = None


def get_if_changed(
    path: str,
    *,
    token: str,
    identity: str,
    params: dict | None = None,
    conditional: bool = True,
    keep_etag: bool = True,
) -> Page | None:
    """A GET sent with the ETag of the last answer; None when GitHub says 304 (which costs no rate limit).

    With `conditional=False` the GET is sent plainly, and its ETag kept for the next conditional one. With
    `keep_etag=False` the ETag is not kept yet: the caller hands the page to `etags_keep` once what it brought
    is stored, so that a failure in between cannot make the next read a 304 over data that was never stored.

    https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate
    """
    from dashboard.models import GitHubState

    url = api_url(path)
    key = "etag#" + hashlib.sha256(f"{identity}|{url}|{sorted((params or {}).items())}".encode()).hexdigest()
    etag = None
    if conditional:
        with contextlib.suppress(GitHubState.DoesNotExist):
            etag = GitHubState.get(key).etag
    headers = {"If-None-Match": etag} if etag else {}
    response = _send("GET", url, token=token, identity=identity, params=params, headers=headers)
    if response.status_code == 304:
        return None
    page = Page(response.json(), response.links.get("next", {}).get("url"), key, response.headers.get("etag"))
    if keep_etag:
        etags_keep([page])
    return page


def etags_keep(pages: list[Page | None]) -> None:
    """Keep the pages' ETags for the next conditional request of the same resource."""
    from dashboard.models import ETAG_RETENTION, GitHubState

    now = datetime.now(UTC)
    for page in pages:
        if page is not None and page.etag and page.etag_key:
            GitHubState(key=page.etag_key, etag=page.etag, updated_at=now, expires_at=now + ETAG_RETENTION).save()


def post(path: str, *, token: str, identity: str | None = None, json: dict | None = None) -> dict | None:
    """One POST; never retried, since GitHub may have acted on a request whose answer was lost."""
    response = _send("POST", api_url(path), token=token, identity=identity, json=json)
    return response.json() if response.content else None


def paginate(
    path: str, *, token: str, identity: str | None = None, key: str | None = None, params: dict | None = None
) -> Iterator[dict]:
    """Every item of a list endpoint, following `Link: rel="next"` (never building page URLs by hand).

    `key` names the list inside an object response (`repositories`, `workflow_runs`, ...).
    https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
    """
    url: str | None = api_url(path)
    params = {"per_page": 100, **(params or {})}
    yield from _pages(url, token=token, identity=identity, key=key, params=params)


def _pages(
    url: str | None, *, token: str, identity: str | None, key: str | None, params: dict | None
) -> Iterator[dict]:
    while url:
        response = _send("GET", url, token=token, identity=identity, params=params)
        body = response.json()
        yield from (body[key] if key else body)
        url = response.links.get("next", {}).get("url")
        params = None  # the next link carries them


# --- GitHub App authentication -----------------------------------------------------------------------------------

JWT_LIFETIME = timedelta(minutes=9)  # GitHub allows 10; a little less absorbs clock drift
TOKEN_REUSE_MARGIN = timedelta(minutes=5)
_app_tokens: dict[str, tuple[datetime, str]] = {}
_app_tokens_lock = threading.Lock()


def _private_key() -> str:
    if settings.GITHUB_APP_PRIVATE_KEY:
        return settings.GITHUB_APP_PRIVATE_KEY
    try:
        with open(settings.GITHUB_APP_PRIVATE_KEY_PATH) as key_file:
            return key_file.read()
    except OSError as error:
        raise GitHubError(
            f"no GitHub App private key: set GITHUB_APP_PRIVATE_KEY, or start the simulator ({error.strerror})"
        ) from error


_making_lock = threading.RLock()  # re-entered: making an installation token makes the App JWT


def _fresh(key: str, now: datetime) -> str | None:
    with _app_tokens_lock:
        cached = _app_tokens.get(key)
    return cached[1] if cached and cached[0] - TOKEN_REUSE_MARGIN > now else None


def _cached(key: str, make) -> str:
    now = datetime.now(UTC)
    if value := _fresh(key, now):
        return value
    # One maker at a time: threads that missed together (a parallel backfill) wait and reuse its token.
    with _making_lock:
        if value := _fresh(key, now):
            return value
        expires_at, value = make(now)
        with _app_tokens_lock:
            _app_tokens[key] = (expires_at, value)
    return value


def app_jwt() -> str:
    """A JWT that authenticates as the App itself, cached until shortly before it expires.

    https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
    """
    import jwt

    def make(now: datetime) -> tuple[datetime, str]:
        claims = {"iat": int((now - timedelta(seconds=60)).timestamp()), "exp": int((now + JWT_LIFETIME).timestamp())}
        claims["iss"] = str(settings.GITHUB_APP_ID)
        # Cached for less than its lifetime: the reuse margin keeps 4 of its 9 minutes in hand.
        return now + JWT_LIFETIME, jwt.encode(claims, _private_key(), algorithm="RS256")

    return _cached("app", make)


def installation_token(installation_id: int) -> str:
    """An installation access token (1 hour), cached until 5 minutes before it expires.

    https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
    """

    def make(now: datetime) -> tuple[datetime, str]:
        path = f"/app/installations/{installation_id}/access_tokens"
        body = post(path, token=app_jwt(), identity="app")
        expires_at = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        return expires_at, body["token"]

    return _cached(f"installation:{installation_id}", make)


def _forget_app_token(identity: str) -> None:
    with _app_tokens_lock:
        _app_tokens.pop(identity, None)


def paginate_rest(next_url: str | None, *, token: str, identity: str | None, key: str | None) -> Iterator[dict]:
    """The items of the pages after a first one fetched by `get_if_changed`."""
    yield from _pages(next_url, token=token, identity=identity, key=key, params=None)


def forget_process_state() -> None:
    """Drop what this process remembers: cached App credentials and rate-limit budgets (tests, new container)."""
    with _app_tokens_lock:
        _app_tokens.clear()
    with _budgets_lock:
        _budgets.clear()


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
    topics: tuple[str, ...] = ()


def _all_pages(path: str, *, token: str, identity: str | None, key: str, etags: list[Page] | None = None) -> list[dict]:
    """Every item of a list; with an identity, the first page's ETag is kept for later conditional requests.

    With `etags`, the first page is added to it instead, for the caller to keep once it has stored the list.
    """
    if identity is None:
        return list(paginate(path, token=token, key=key))
    first = get_if_changed(
        path, token=token, identity=identity, params={"per_page": 100}, conditional=False, keep_etag=etags is None
    )
    items = [*first.body[key], *paginate_rest(first.next_url, token=token, identity=identity, key=key)]
    if etags is not None:
        etags.append(first)
    return items


def user_installations(token: str, *, identity: str | None = None, etags: list[Page] | None = None) -> list[dict]:
    """Installations of our GitHub App that the user can access.

    https://docs.github.com/en/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token
    """
    return _all_pages("/user/installations", token=token, identity=identity, key="installations", etags=etags)


def user_installation_repositories(
    token: str, installation_id: int, *, identity: str | None = None, etags: list[Page] | None = None
) -> list[Repository]:
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
            topics=tuple(topic for topic in repo.get("topics") or () if isinstance(topic, str)),
        )
        for repo in _all_pages(path, token=token, identity=identity, key="repositories", etags=etags)
    ]


def user_repositories(token: str, *, identity: str | None = None, etags: list[Page] | None = None) -> list[Repository]:
    """Every repository the user can see through our App: the user's access intersected with the App's.

    With `etags`, the lists' ETags are added to it rather than kept, for the caller to keep once it has stored
    the answer (see `get_if_changed`).
    """
    repos: dict[str, Repository] = {}
    for installation in user_installations(token, identity=identity, etags=etags):
        for repo in user_installation_repositories(token, installation["id"], identity=identity, etags=etags):
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
