"""A Django session engine on the DynamoDB `sessions` table (SESSION_ENGINE = "accounts.sessions").

Sessions have an absolute lifetime: they end SESSION_COOKIE_AGE seconds after sign-in, however active. Logout
deletes the item, so the old cookie is worthless, and a save never brings a deleted session back (the write
is conditional on the item still existing).

The table never holds a session's key, only its keyed hash (`session_key_hash`): a copy of the table (a backup,
an export, a debug log of the AWS client) yields no cookie that works. The hash is keyed by SECRET_KEY, so a new
secret key ends every session.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.utils.crypto import salted_hmac
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException

from accounts.models import SessionRecord


def session_key_hash(session_key: str) -> str:
    """What the sessions table keys a session by: an HMAC-SHA256 of the cookie's key under SECRET_KEY."""
    return salted_hmac("accounts.sessions", session_key, algorithm="sha256").hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _is_conditional_failure(error: PutError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class SessionStore(SessionBase):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._created_at: datetime | None = None
        self._load_failure: PynamoDBException | None = None

    def _expires_at(self) -> datetime:
        return (self._created_at or _now()) + timedelta(seconds=settings.SESSION_COOKIE_AGE)

    def get_expiry_date(self, **kwargs):
        return self._expires_at()

    def get_expiry_age(self, **kwargs):
        return max(0, int((self._expires_at() - _now()).total_seconds()))

    def load(self):
        # When DynamoDB does not answer, the request fails once, after the client's timeouts and retries; not
        # again for each middleware that asks for the user afterwards (each another round of timeouts).
        if self._load_failure is not None:
            raise self._load_failure
        if self.session_key is None:
            return {}  # no cookie, no session (Django asks only with a key)
        try:
            record = SessionRecord.get(session_key_hash(self.session_key), consistent_read=True)
        except DoesNotExist:
            record = None
        except PynamoDBException as failure:
            self._load_failure = failure
            raise
        # DynamoDB's TTL deletes expired items up to days late, so expiry is checked here too.
        if record is None or record.expires_at <= _now():
            self._session_key = None
            return {}
        self._created_at = record.created_at
        return self.decode(record.data)

    def exists(self, session_key):
        try:
            return SessionRecord.get(session_key_hash(session_key), consistent_read=True).expires_at > _now()
        except DoesNotExist:
            return False

    def create(self):
        while True:
            # SessionBase's private helpers, meant for session engines, are missing from django-stubs.
            self._session_key = self._get_new_session_key()  # type: ignore[attr-defined]
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # a key collision: try another
            self.modified = True
            return

    def save(self, must_create=False):
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]  # as in create()
        if must_create:
            self._created_at = _now()
        user_id = data.get(SESSION_KEY)
        record = SessionRecord(
            session_id=session_key_hash(self._get_or_create_session_key()),  # type: ignore[attr-defined]  # as above
            user_id=int(user_id) if user_id is not None else None,
            data=self.encode(data),
            created_at=self._created_at or _now(),
            expires_at=self._expires_at(),
        )
        condition = SessionRecord.session_id.does_not_exist() if must_create else SessionRecord.session_id.exists()
        try:
            record.save(condition=condition)
        except PutError as error:
            if not _is_conditional_failure(error):
                raise
            # Taken key on create; on update, the session was deleted (logout elsewhere): do not revive it.
            raise (CreateError if must_create else UpdateError) from error

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is None:
            return
        SessionRecord(session_id=session_key_hash(session_key)).delete()

    @classmethod
    def clear_expired(cls):
        """Nothing to do: DynamoDB's TTL on `expiresAt` deletes expired sessions, and `load` ignores them until then."""


def sessions_delete_for_user(user_id: int) -> int:
    """End every session of a user (logout everywhere, revoked authorization); return how many."""
    ended = 0
    for key in SessionRecord.by_user.query(user_id):  # the index holds the hashes, which is all a delete needs
        SessionRecord(session_id=key.session_id).delete()
        ended += 1
    return ended
