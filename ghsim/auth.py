"""Who is calling: OAuth codes and user tokens, app JWTs, installation tokens, and per-token rate limits.

GitHub's rules reproduced here:
https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghsim.clock import SimClock

CODE_TTL = 10 * 60
REFRESH_TTL = 184 * 86_400  # refresh tokens last six months
JWT_MAX_LIFETIME = 10 * 60
CLOCK_SKEW = 60  # GitHub tolerates this much drift between the app's clock and its own
WINDOW = 3600
UNAUTHENTICATED_LIMIT = 60
OAUTH_DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
ALPHABET = string.ascii_letters + string.digits


class AuthError(Exception):
    """A request GitHub would refuse; carries the HTTP status and message."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class OAuthError(Exception):
    """An error the token endpoint reports in its body (with HTTP 200, as GitHub does)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def as_dict(self) -> dict[str, str]:
        return {
            "error": self.error,
            "error_description": self.description,
            "error_uri": f"{OAUTH_DOCS}/#{self.error.replace('_', '-')}",
        }


@dataclass
class Principal:
    """The authenticated caller of one API request."""

    kind: str  # "user", "installation", "app" or "anonymous"
    login: str | None = None
    installation_id: int | None = None
    repo_ids: frozenset[int] | None = None  # an installation token narrowed to some repositories
    token: str | None = None

    @property
    def bucket(self) -> str:
        """The rate-limit bucket: per user, per installation, per app."""
        if self.kind == "user":
            return f"user:{self.login}"
        if self.kind == "installation":
            return f"installation:{self.installation_id}"
        return self.kind

    @property
    def label(self) -> str:
        """How request counts name this caller."""
        if self.kind == "user":
            return str(self.login)
        if self.kind == "installation":
            return f"installation:{self.installation_id}"
        return self.kind


@dataclass
class Token:
    """A user (`ghu_`) or installation (`ghs_`) access token."""

    value: str
    kind: str
    expires_at: float
    login: str | None = None
    installation_id: int | None = None
    repo_ids: frozenset[int] | None = None
    client_id: str | None = None
    revoked: bool = False


@dataclass
class Code:
    """An authorization code waiting to be exchanged."""

    login: str
    client_id: str
    redirect_uri: str | None
    expires_at: float
    challenge: str | None
    challenge_method: str | None
    used: bool = False


@dataclass
class Refresh:
    """A single-use refresh token (`ghr_`)."""

    login: str
    client_id: str
    expires_at: float
    used: bool = False


@dataclass
class Bucket:
    """One rate-limit window."""

    limit: int
    reset: float
    used: int = 0


@dataclass
class AppCredentials:
    """The GitHub App's identity: ids, OAuth client and RSA key pair."""

    app_id: int
    client_id: str
    client_secret: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def create(
        cls, *, app_id: int, client_id: str, client_secret: str, private_key_pem: bytes | None
    ) -> AppCredentials:
        """Load the given PEM key, or generate a fresh 2048-bit one."""
        if private_key_pem:
            key = serialization.load_pem_private_key(private_key_pem, password=None)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(app_id=app_id, client_id=client_id, client_secret=client_secret, private_key=key)

    def private_key_pem(self) -> bytes:
        """The private key as PKCS#1 PEM, the format GitHub hands out."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )

    def sign_jwt(self, now: float, *, lifetime: int = 540, iss: str | int | None = None, backdate: int = 60) -> str:
        """An app JWT as GitHub recommends building one (iat backdated 60 s, exp under 10 min ahead)."""
        claims = {"iat": int(now) - backdate, "exp": int(now) + lifetime, "iss": str(iss or self.app_id)}
        return jwt.encode(claims, self.private_key, algorithm="RS256")


class Auth:
    """Issues and checks every credential; counts rate limits. Call under the simulator lock."""

    def __init__(
        self, *, clock: SimClock, rng: random.Random, credentials: AppCredentials, jwt_now: Callable[[], float]
    ) -> None:
        self.clock = clock
        self.jwt_now = jwt_now  # the clock JWT claims are checked against (see Config.jwt_clock)
        self.rng = rng
        self.credentials = credentials
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Refresh] = {}
        self.buckets: dict[str, Bucket] = {}

    def _random(self, prefix: str, length: int) -> str:
        return prefix + "".join(self.rng.choice(ALPHABET) for _ in range(length))

    # OAuth web flow

    def issue_code(
        self, *, login: str, client_id: str, redirect_uri: str | None, challenge: str | None, method: str | None
    ) -> str:
        """A single-use code for the authorize redirect, valid 10 minutes."""
        code = self._random("", 20).lower()
        self.codes[code] = Code(login, client_id, redirect_uri, self.clock.now() + CODE_TTL, challenge, method)
        return code

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        """The app's OAuth client credentials, compared in constant time."""
        creds = self.credentials
        if client_id != creds.client_id or not hmac.compare_digest(client_secret or "", creds.client_secret):
            raise OAuthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")

    def exchange_code(
        self, *, code: str, redirect_uri: str | None, verifier: str | None, ttl: int, client_id: str
    ) -> dict:
        """Trade a code (plus PKCE verifier) for a user token and a refresh token."""
        entry = self.codes.get(code or "")
        bad = OAuthError("bad_verification_code", "The code passed is incorrect or expired.")
        if entry is None or entry.used or entry.expires_at <= self.clock.now() or entry.client_id != client_id:
            raise bad
        entry.used = True  # single use, even when the rest of the request is wrong
        if entry.redirect_uri and redirect_uri and redirect_uri != entry.redirect_uri:
            raise OAuthError(
                "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application."
            )
        if entry.challenge and not _pkce_matches(entry.challenge, entry.challenge_method, verifier):
            raise bad
        return self.issue_user_token(entry.login, ttl=ttl, client_id=client_id)

    def refresh(self, *, refresh_token: str, ttl: int, client_id: str) -> dict:
        """Trade a refresh token (once) for a new user token and refresh token."""
        entry = self.refresh_tokens.get(refresh_token or "")
        if entry is None or entry.used or entry.expires_at <= self.clock.now() or entry.client_id != client_id:
            raise OAuthError("bad_refresh_token", "The refresh token passed is incorrect or expired.")
        entry.used = True
        return self.issue_user_token(entry.login, ttl=ttl, client_id=client_id)

    def issue_user_token(self, login: str, *, ttl: int, client_id: str | None = None) -> dict:
        """A `ghu_` token and its `ghr_` refresh token, as the token endpoint returns them."""
        now = self.clock.now()
        value = self._random("ghu_", 36)
        self.tokens[value] = Token(
            value, "user", now + ttl, login=login, client_id=client_id or self.credentials.client_id
        )
        refresh = self._random("ghr_", 76)
        self.refresh_tokens[refresh] = Refresh(login, client_id or self.credentials.client_id, now + REFRESH_TTL)
        return {
            "access_token": value,
            "expires_in": ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": REFRESH_TTL,
            "scope": "",
            "token_type": "bearer",
        }

    def issue_installation_token(self, installation_id: int, *, ttl: int, repo_ids: frozenset[int] | None) -> Token:
        """A `ghs_` installation token, valid one hour by default."""
        value = self._random("ghs_", 36)
        token = Token(value, "installation", self.clock.now() + ttl, installation_id=installation_id, repo_ids=repo_ids)
        self.tokens[value] = token
        return token

    # Revocation

    def revoke_user(self, login: str) -> int:
        """Revoke every token and refresh token of a user's authorization; the number of live tokens revoked."""
        count = 0
        for token in self.tokens.values():
            if token.login == login and not token.revoked:
                token.revoked = True
                count += 1
        for refresh in self.refresh_tokens.values():
            if refresh.login == login:
                refresh.used = True
        return count

    def revoke_token(self, value: str) -> Token | None:
        """Revoke one token; the token, if it existed."""
        token = self.tokens.get(value)
        if token is not None:
            token.revoked = True
        return token

    def expire_tokens(self, *, login: str | None = None, kind: str | None = None) -> int:
        """Make live tokens expire now (a fault knob); the number expired."""
        now = self.clock.now()
        count = 0
        for token in self.tokens.values():
            if (
                (login is None or token.login == login)
                and (kind is None or token.kind == kind)
                and token.expires_at > now
            ):
                token.expires_at = now
                count += 1
        return count

    # Request authentication

    def authenticate(self, header: str | None) -> Principal:
        """The caller named by an `Authorization` header (`token X`, `Bearer X`, or an app JWT)."""
        if not header:
            return Principal("anonymous")
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise AuthError("Bad credentials")
        if credential.count(".") == 2:
            self.verify_jwt(credential)
            return Principal("app", token=credential)
        token = self.tokens.get(credential)
        if token is None or token.revoked or token.expires_at <= self.clock.now():
            raise AuthError("Bad credentials")
        if token.kind == "user":
            return Principal("user", login=token.login, token=credential)
        return Principal(
            "installation", installation_id=token.installation_id, repo_ids=token.repo_ids, token=credential
        )

    def verify_jwt(self, value: str) -> dict:
        """Check an app JWT: RS256 signature by the app's key, `iss`, `iat` and `exp` against the simulated clock."""
        try:
            claims = jwt.decode(
                value,
                self.credentials.private_key.public_key(),
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iat", "exp", "iss"],
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthError("A JSON web token could not be decoded") from exc
        now = self.jwt_now()
        iat, exp, iss = claims["iat"], claims["exp"], claims["iss"]
        if str(iss) not in (str(self.credentials.app_id), self.credentials.client_id):
            raise AuthError("A JSON web token could not be decoded")
        if not isinstance(iat, int | float) or iat > now + CLOCK_SKEW:
            raise AuthError("'Issued at' claim ('iat') must be an Integer representing a time in the past.")
        if not isinstance(exp, int | float) or exp <= now - CLOCK_SKEW:
            raise AuthError(
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
                "the assertion expires."
            )
        if exp > now + JWT_MAX_LIFETIME + CLOCK_SKEW:
            raise AuthError("'Expiration time' claim ('exp') is too far in the future.")
        return claims

    # Rate limits

    def bucket(self, principal: Principal, *, limit: int) -> Bucket:
        """The caller's current window, opened on first use and renewed after an hour."""
        if principal.kind == "anonymous":
            limit = UNAUTHENTICATED_LIMIT
        now = self.clock.now()
        bucket = self.buckets.get(principal.bucket)
        if bucket is None or bucket.reset <= now:
            bucket = Bucket(limit=limit, reset=float(int(now) + WINDOW))
            self.buckets[principal.bucket] = bucket
        bucket.limit = limit
        return bucket


def _pkce_matches(challenge: str, method: str | None, verifier: str | None) -> bool:
    """RFC 7636: S256 compares BASE64URL(SHA256(verifier)) with the challenge; `plain` compares them as is."""
    if not verifier:
        return False
    if (method or "plain").upper() == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    return hmac.compare_digest(computed, challenge)
