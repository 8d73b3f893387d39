"""The one GitHub client, on `requests`: REST calls, App authentication and OAuth token refresh.

Import the package and use its names (`github.get`, `github.NotFound`, `github.kept_after`); each comes from
the module of its concern:

- `errors`: the named exceptions, with `Unavailable` the one for "GitHub cannot be asked now";
- `transport`: the session, timeouts, retries of GETs, pagination by `Link` headers;
- `budgets`: rate limits per credential, shared between containers;
- `etags`: conditional requests, and keeping ETags only once their answer is stored;
- `credentials` and `app_auth`: the App's JWT and installation tokens; `oauth`: user token refresh;
- `calls`: typed calls, each linking the GitHub docs page it implements;
- `state`: the DynamoDB table the client remembers things in.

REST reference: https://docs.github.com/en/rest
"""

from dashboard.lib.github import budgets, credentials
from dashboard.lib.github.app_auth import app_jwt, installation_token
from dashboard.lib.github.budgets import Budget, budget
from dashboard.lib.github.calls import Repository, user_installation_repositories, user_installations, user_repositories
from dashboard.lib.github.errors import (
    CANNOT_ASK,
    AppCredentialsRejected,
    BadCredentials,
    Conflict,
    Forbidden,
    GitHubError,
    GitHubUnavailable,
    NotFound,
    OAuthRefused,
    RateLimited,
    Unavailable,
    ValidationFailed,
    raise_for_status,
)
from dashboard.lib.github.etags import Page, etags_keep, get_if_changed, kept_after
from dashboard.lib.github.oauth import TokenGrant, oauth_refresh
from dashboard.lib.github.transport import API_VERSION, api_url, get, paginate, paginate_rest, post

__all__ = [
    "API_VERSION",
    "AppCredentialsRejected",
    "CANNOT_ASK",
    "BadCredentials",
    "Budget",
    "Conflict",
    "Forbidden",
    "GitHubError",
    "GitHubUnavailable",
    "NotFound",
    "OAuthRefused",
    "Page",
    "RateLimited",
    "Repository",
    "TokenGrant",
    "Unavailable",
    "ValidationFailed",
    "api_url",
    "app_jwt",
    "budget",
    "etags_keep",
    "forget_process_state",
    "get",
    "get_if_changed",
    "installation_token",
    "kept_after",
    "oauth_refresh",
    "paginate",
    "paginate_rest",
    "post",
    "raise_for_status",
    "user_installation_repositories",
    "user_installations",
    "user_repositories",
]


def forget_process_state() -> None:
    """Drop what this process remembers: cached App credentials and rate-limit budgets (tests, new container)."""
    credentials.forget()
    budgets.forget()
