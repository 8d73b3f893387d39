"""Feed tokens: a secret URL that lets a build monitor read one user's overview feeds without signing in.

The token is `<user id>.<random>`; only its SHA-256 is stored, so a leaked table does not leak feeds. A new
token replaces the old one, which stops working at once. The feed still shows only what GitHub lets the user
see, through the user's own GitHub token.
"""

import hashlib
import hmac
import secrets

from pynamodb.exceptions import DoesNotExist

from accounts.models import UserRecord


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token_issue(user_id: int) -> str:
    """A new feed token for the user (shown once); any earlier one stops working."""
    token = f"{user_id}.{secrets.token_urlsafe(24)}"
    UserRecord(user_id=user_id).update(actions=[UserRecord.feed_token_hash.set(_digest(token))])
    return token


def feed_token_revoke(user_id: int) -> None:
    UserRecord(user_id=user_id).update(actions=[UserRecord.feed_token_hash.remove()])


def feed_token_user(token: str) -> UserRecord | None:
    """The user a feed token belongs to, or None for a malformed, unknown or replaced token."""
    user_part, _, secret = token.partition(".")
    if not (user_part.isdigit() and secret and len(token) <= 100):
        return None
    try:
        record = UserRecord.get(int(user_part))
    except DoesNotExist:
        return None
    if not record.feed_token_hash or not hmac.compare_digest(record.feed_token_hash, _digest(token)):
        return None
    if record.token_ciphertext is None:  # signed out of GitHub everywhere, or the authorization was revoked
        return None
    return record
