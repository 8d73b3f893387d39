"""A user's GitHub tokens: sealed at rest, and refreshed before they expire by exactly one container.

GitHub App user tokens last 8 hours; their refresh tokens are single use. If two Lambda containers refreshed at
once, the second would burn a refresh token already spent and the user would be signed out. So a refresh first
takes a short lease on the user's item with a conditional write; only the holder calls GitHub, and the others
wait for the new token (or keep using the old one while it is still valid).
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from accounts.crypto import KeyServiceUnavailable, TokenDecryptionError, token_cipher
from accounts.models import UserRecord
from dashboard.lib import github
from dashboard.lib.dynamo import set_or_remove

# Refresh this long before the access token expires, so a request never starts with a token about to lapse.
REFRESH_MARGIN = timedelta(minutes=5)
# Longer than a refresh can take (GitHub's timeout, three times over), so a lease never lapses mid-refresh.
LEASE = timedelta(seconds=30)
WAIT_FOR_REFRESH_SECONDS = 10.0
POLL_SECONDS = 0.1


class NoToken(Exception):
    """The user has no usable GitHub token: never stored, undecryptable, or refused by GitHub."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _context(user_id: int) -> dict[str, str]:
    return {"purpose": "github-user-tokens", "userId": str(user_id)}


def tokens_seal(record: UserRecord, grant: github.TokenGrant) -> None:
    """Put a grant's tokens on the record, encrypted; the caller saves it."""
    plaintext = json.dumps({"access": grant.access_token, "refresh": grant.refresh_token}).encode()
    record.token_ciphertext = token_cipher().encrypt(plaintext, _context(int(record.user_id)))
    record.access_token_expires_at = grant.access_expires_at
    record.refresh_token_expires_at = grant.refresh_expires_at


def tokens_open(record: UserRecord) -> Tokens:
    """The record's tokens in clear; fails closed with NoToken."""
    if not record.token_ciphertext:
        raise NoToken(f"user {record.user_id} has no stored token")
    try:
        opened = json.loads(token_cipher().decrypt(record.token_ciphertext, _context(int(record.user_id))))
    except TokenDecryptionError as error:
        raise NoToken(f"user {record.user_id}'s token could not be decrypted: {error}") from error
    except KeyServiceUnavailable as error:
        # Not the user's fault and not permanent: treated like GitHub being down, never as a revocation.
        raise github.GitHubUnavailable(f"the key service is not answering: {error}") from error
    return Tokens(opened["access"], opened["refresh"], record.access_token_expires_at)


def _fresh(tokens: Tokens, *, margin: timedelta = REFRESH_MARGIN) -> bool:
    return tokens.access_expires_at is None or tokens.access_expires_at - margin > _now()


def user_access_token(user_id: int) -> str:
    """A valid access token for the user, refreshing it first if it is about to expire."""
    record = UserRecord.get(user_id, consistent_read=True)
    tokens = tokens_open(record)
    if _fresh(tokens):
        return tokens.access_token
    return _refresh(record, tokens)


def _take_lease(record: UserRecord, lease: str) -> bool:
    now = _now()
    try:
        record.update(
            actions=[UserRecord.refresh_lease.set(lease), UserRecord.refresh_lease_until.set(now + LEASE)],
            condition=(UserRecord.token_version == record.token_version)
            & (UserRecord.refresh_lease_until.does_not_exist() | (UserRecord.refresh_lease_until < now)),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _refresh(record: UserRecord, tokens: Tokens) -> str:
    seen_version = record.token_version
    deadline = time.monotonic() + WAIT_FOR_REFRESH_SECONDS
    while time.monotonic() < deadline:
        lease = uuid.uuid4().hex
        if _take_lease(record, lease):
            return _refresh_holding_lease(record, tokens, lease)
        if _fresh(tokens, margin=timedelta(0)):
            return tokens.access_token  # another container is refreshing; the old token still works meanwhile
        time.sleep(POLL_SECONDS)
        record = UserRecord.get(record.user_id, consistent_read=True)
        if record.token_version > seen_version:
            return tokens_open(record).access_token
    raise github.GitHubUnavailable("timed out waiting for another request to refresh the GitHub token")


def _release(record: UserRecord, lease: str) -> None:
    """Give the lease back, if it is still this one's (never another container's)."""
    try:
        record.update(
            actions=[UserRecord.refresh_lease.remove(), UserRecord.refresh_lease_until.remove()],
            condition=UserRecord.refresh_lease == lease,
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _refresh_holding_lease(record: UserRecord, tokens: Tokens, lease: str) -> str:
    seen_version = record.token_version
    try:
        grant = github.oauth_refresh(tokens.refresh_token)
    except github.OAuthRefused as refusal:
        # The authorization is gone (revoked, or the refresh token expired): nothing left to refresh with.
        _release(record, lease)
        raise NoToken(f"GitHub refused to refresh user {record.user_id}'s token: {refusal.code}") from refusal
    except github.GitHubError:
        _release(record, lease)
        raise
    tokens_seal(record, grant)
    try:
        # Keyed on the version, not the lease: if the user signed in again meanwhile, that newer grant stays.
        record.update(
            actions=[
                UserRecord.token_ciphertext.set(record.token_ciphertext),
                set_or_remove(UserRecord.access_token_expires_at, grant.access_expires_at),
                set_or_remove(UserRecord.refresh_token_expires_at, grant.refresh_expires_at),
                UserRecord.token_version.set(seen_version + 1),
                UserRecord.updated_at.set(_now()),
                UserRecord.refresh_lease.remove(),
                UserRecord.refresh_lease_until.remove(),
            ],
            condition=UserRecord.token_version == seen_version,
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return grant.access_token  # valid either way; only its storing may have been superseded
