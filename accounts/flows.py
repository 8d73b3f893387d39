"""The account flows that cross models: signing a GitHub user in, and ending a user's access."""

import logging
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from accounts.models import UserRecord, UserSettings
from accounts.sessions import sessions_delete_for_user
from accounts.tokens import tokens_seal
from dashboard import github
from realtime.fanout import access_ended

logger = logging.getLogger(__name__)


def user_sign_in(*, profile: dict, grant: github.TokenGrant) -> UserRecord:
    """Create or update the user from their GitHub profile and store their tokens, sealed."""
    now = datetime.now(UTC)
    user_id = int(profile["id"])
    try:
        record = UserRecord.get(user_id, consistent_read=True)
    except DoesNotExist:
        record = UserRecord(user_id=user_id, created_at=now)
    record.login = profile["login"]
    record.name = profile.get("name") or None
    record.avatar_url = profile.get("avatar_url") or None
    record.updated_at = now
    record.refresh_lease = record.refresh_lease_until = None
    tokens_seal(record, grant)
    # A new grant supersedes whatever refresh another container might be waiting on.
    record.token_version = (record.token_version or 0) + 1
    record.save()
    user_settings_ensure(user_id)
    logger.info("user %s signed in", user_id)
    return record


def user_settings_ensure(user_id: int) -> UserSettings:
    """The user's settings, created with the defaults on first sign-in."""
    try:
        return UserSettings.get(user_id)
    except DoesNotExist:
        now = datetime.now(UTC)
        settings = UserSettings(user_id=user_id, created_at=now, updated_at=now)
        settings.save(condition=UserSettings.user_id.does_not_exist())
        return settings


def user_revoke(user_id: int) -> int:
    """End every session of the user and forget their tokens (GitHub authorization revoked); return sessions ended."""
    try:
        UserRecord(user_id=user_id).update(
            actions=[
                UserRecord.token_ciphertext.remove(),
                UserRecord.access_token_expires_at.remove(),
                UserRecord.refresh_token_expires_at.remove(),
                UserRecord.token_version.add(1),
            ],
            condition=UserRecord.user_id.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise  # an unknown user simply has nothing to forget
    ended = sessions_delete_for_user(user_id)
    access_ended(user_id=user_id)  # and every live socket and stream of theirs
    logger.info("user %s revoked: %d session(s) ended", user_id, ended)
    return ended
