"""The account flows that cross models: signing a GitHub user in, and ending a user's access."""

import logging
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from accounts.models import UserRecord, UserSettings
from accounts.sessions import sessions_delete_for_user
from accounts.tokens import tokens_seal
from dashboard.lib import github
from dashboard.lib.dynamo import set_or_remove
from realtime.fanout import access_ended

logger = logging.getLogger(__name__)


def user_sign_in(*, profile: dict, grant: github.TokenGrant) -> UserRecord:
    """Create or update the user from their GitHub profile and store their tokens, sealed.

    One UpdateItem of the attributes sign-in owns: saving the whole item read before would undo a change made
    meanwhile by another request (feed links turned off, visibility refreshed).
    """
    now = datetime.now(UTC)
    user_id = int(profile["id"])
    record = UserRecord(user_id=user_id)
    tokens_seal(record, grant)
    record.update(
        actions=[
            UserRecord.login.set(profile["login"]),
            set_or_remove(UserRecord.name, profile.get("name") or None),
            set_or_remove(UserRecord.avatar_url, profile.get("avatar_url") or None),
            UserRecord.created_at.set(UserRecord.created_at | now),
            UserRecord.updated_at.set(now),
            UserRecord.refresh_lease.remove(),
            UserRecord.refresh_lease_until.remove(),
            UserRecord.token_ciphertext.set(record.token_ciphertext),
            set_or_remove(UserRecord.access_token_expires_at, record.access_token_expires_at),
            set_or_remove(UserRecord.refresh_token_expires_at, record.refresh_token_expires_at),
            # A new grant supersedes whatever refresh another container might be waiting on.
            UserRecord.token_version.add(1),
        ]
    )
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
