"""Authenticating as the GitHub App: its JWT, and installation access tokens made with it.

https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/about-authentication-with-a-github-app
"""

from datetime import datetime, timedelta

from django.conf import settings

from dashboard.lib.github import credentials
from dashboard.lib.github.errors import GitHubError
from dashboard.lib.github.transport import post

JWT_LIFETIME = timedelta(minutes=9)  # GitHub allows 10; a little less absorbs clock drift


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


def app_jwt() -> str:
    """A JWT that authenticates as the App itself, cached until shortly before it expires.

    https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
    """

    # Imported here, not at the top: PyJWT's RS256 loads `cryptography`, which a cold start should not pay for
    # when it serves a page that needs no App credential.
    import jwt

    def make(now: datetime) -> tuple[datetime, str]:
        claims: dict[str, int | str] = {
            "iat": int((now - timedelta(seconds=60)).timestamp()),
            "exp": int((now + JWT_LIFETIME).timestamp()),
            "iss": str(settings.GITHUB_APP_ID),
        }
        # Cached for less than its lifetime: the reuse margin keeps 4 of its 9 minutes in hand.
        return now + JWT_LIFETIME, jwt.encode(claims, _private_key(), algorithm="RS256")

    return credentials.cached("app", make)


def installation_token(installation_id: int) -> str:
    """An installation access token (1 hour), cached until 5 minutes before it expires.

    https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
    """

    def make(now: datetime) -> tuple[datetime, str]:
        path = f"/app/installations/{installation_id}/access_tokens"
        body = post(path, token=app_jwt(), identity="app")
        if body is None:
            raise GitHubError("GitHub made no installation token (an empty answer)")
        expires_at = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        return expires_at, body["token"]

    return credentials.cached(f"installation:{installation_id}", make)
