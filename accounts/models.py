"""Who the user is: GitHub users, their sessions and their settings, each in its own DynamoDB table."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.utils.crypto import salted_hmac
from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from dashboard.lib.dynamo import TableMeta, TableModel, table


class UserRecord(TableModel):
    """A GitHub user who has signed in, keyed by their GitHub user id (logins can be renamed, ids cannot)."""

    class Meta(TableMeta):
        table_name = table("users")

    user_id = NumberAttribute(hash_key=True, attr_name="userId")
    login = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    avatar_url = UnicodeAttribute(null=True, attr_name="avatarUrl")
    # Access and refresh tokens, encrypted together as one envelope; never stored or logged in clear.
    token_ciphertext = BinaryAttribute(null=True, legacy_encoding=False, attr_name="tokenCiphertext")
    access_token_expires_at = UTCDateTimeAttribute(null=True, attr_name="accessTokenExpiresAt")
    refresh_token_expires_at = UTCDateTimeAttribute(null=True, attr_name="refreshTokenExpiresAt")
    # Bumped by every token refresh; the refresh is a conditional write on it, so only one container wins.
    token_version = NumberAttribute(default=0, attr_name="tokenVersion")
    # A short lease taken (conditionally) by the one container that refreshes; see accounts/tokens.py.
    refresh_lease = UnicodeAttribute(null=True, attr_name="refreshLease")
    refresh_lease_until = UTCDateTimeAttribute(null=True, attr_name="refreshLeaseUntil")
    # The repositories the user may see (JSON), as GitHub last said through the user's own token, with when and
    # under which visibility epoch (installation events bump it, which makes every cached copy stale at once).
    visible_repos = UnicodeAttribute(null=True, attr_name="visibleRepos")
    visible_at = UTCDateTimeAttribute(null=True, attr_name="visibleAt")
    visibility_epoch = NumberAttribute(null=True, attr_name="visibilityEpoch")
    # The SHA-256 of the user's feed token (accounts/feed_tokens.py), for build monitors that cannot sign in.
    feed_token_hash = UnicodeAttribute(null=True, attr_name="feedTokenHash")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")


class SessionsByUser(GlobalSecondaryIndex):
    """A user's sessions, to end them all on logout everywhere or a revoked GitHub authorization."""

    class Meta:
        index_name = "userId-index"
        projection = KeysOnlyProjection()

    user_id = NumberAttribute(hash_key=True, attr_name="userId")
    created_at = UTCDateTimeAttribute(range_key=True, attr_name="createdAt")


class SessionRecord(TableModel):
    """One Django session. Anonymous sessions have no userId, so the index holds signed-in sessions only."""

    class Meta(TableMeta):
        table_name = table("sessions")

    # The keyed hash of the cookie's session key (accounts/sessions.py: session_key_hash), never the key itself.
    session_id = UnicodeAttribute(hash_key=True, attr_name="sessionId")
    user_id = NumberAttribute(null=True, attr_name="userId")
    data = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    # DynamoDB deletes expired items up to days late, so loading a session checks this itself as well.
    expires_at = TTLAttribute(attr_name="expiresAt")

    by_user = SessionsByUser()


class NotificationPreferences(MapAttribute):
    """Which run changes raise a browser notification."""

    enabled = BooleanAttribute(default=False)
    on_failure = BooleanAttribute(default=True, attr_name="onFailure")
    on_recovery = BooleanAttribute(default=True, attr_name="onRecovery")
    pinned_only = BooleanAttribute(default=True, attr_name="pinnedOnly")
    default_branch_only = BooleanAttribute(default=True, attr_name="defaultBranchOnly")


class UserSettings(TableModel):
    """A user's choices: which repos to show and pin, theme, refresh and notifications."""

    class Meta(TableMeta):
        table_name = table("user-settings")

    user_id = NumberAttribute(hash_key=True, attr_name="userId")
    # Read as strings: PynamoDB's stub types a list's items as the `of` attribute class itself.
    selected_repos: ListAttribute[str] = ListAttribute(
        of=UnicodeAttribute,  # type: ignore[arg-type]
        default=list,
        attr_name="selectedRepos",
    )
    pinned_repos: ListAttribute[str] = ListAttribute(
        of=UnicodeAttribute,  # type: ignore[arg-type]  # as above
        default=list,
        attr_name="pinnedRepos",
    )
    theme = UnicodeAttribute(default="system")
    auto_refresh = BooleanAttribute(default=True, attr_name="autoRefresh")
    notifications = NotificationPreferences(default=NotificationPreferences)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")


class GitHubUser(AbstractBaseUser):
    """The signed-in user as Django sees it (`request.user`): built from a UserRecord, never saved (no SQL)."""

    id = models.BigIntegerField(primary_key=True)
    login = models.CharField(max_length=39, unique=True)
    name = models.CharField(max_length=255, blank=True)
    avatar_url = models.URLField(blank=True)
    # None removes the inherited field (Django allows it for an abstract parent's fields; django-stubs types the
    # attribute as the field's str only).
    password = None  # type: ignore[assignment]
    # With no last_login field, Django's login() does not try to write one to a database that does not exist.
    last_login = None

    USERNAME_FIELD = "login"

    # The UserRecord the request's user was built from (from_record), not a field: views read it from here.
    record: UserRecord

    class Meta:
        managed = False

    def __str__(self):
        return self.login

    @property
    def display_name(self) -> str:
        return self.name or self.login

    def get_session_auth_hash(self):
        # Django binds sessions to a hash of the password; these users have none, so bind them to the user id.
        return salted_hmac("accounts.GitHubUser", str(self.pk), algorithm="sha256").hexdigest()

    @classmethod
    def from_record(cls, record: UserRecord) -> "GitHubUser":
        user = cls(id=record.user_id, login=record.login, name=record.name or "", avatar_url=record.avatar_url or "")
        user.record = record  # what the request already read, so views need not read it again
        return user
