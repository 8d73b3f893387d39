"""Refreshing a user's access token with its refresh token (user tokens that expire).

https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.conf import settings

from dashboard.lib.github.errors import GitHubUnavailable, OAuthRefused, message
from dashboard.lib.github.transport import session


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None

    @classmethod
    def from_response(cls, body: dict[str, Any], *, now: datetime | None = None) -> "TokenGrant":
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
    """Trade a (single-use) refresh token for new user tokens."""
    try:
        response = session.post(
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
        raise GitHubUnavailable(message(response), status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        raise GitHubUnavailable(f"GitHub answered {response.status_code} without JSON") from None
    # GitHub reports OAuth errors with status 200 and an `error` field.
    if "error" in body or "access_token" not in body:
        raise OAuthRefused(body.get("error", "no_access_token"), body.get("error_description", ""))
    return TokenGrant.from_response(body)
