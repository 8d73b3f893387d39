from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError

from accounts.models import SessionRecord
from accounts.sessions import SessionStore, session_key_hash, sessions_delete_for_user
from tests.plugins.dynamodb import tables_text


def test_it_creates_and_loads_a_session(dynamodb):
    session = SessionStore()
    session["probe"] = "value"
    session.save()

    loaded = SessionStore(session.session_key)

    assert loaded["probe"] == "value"
    assert loaded.exists(session.session_key)


def test_it_keeps_the_signed_in_user_on_the_item_for_the_user_index(dynamodb):
    session = SessionStore()
    session[SESSION_KEY] = "1001"
    session.save()

    assert SessionRecord.get(session_key_hash(session.session_key)).user_id == 1001


def test_it_stores_only_a_keyed_hash_of_the_session_key(dynamodb):
    session = SessionStore()
    session[SESSION_KEY] = "1001"
    session.save()

    assert session.session_key not in tables_text()
    assert SessionRecord.count(session.session_key) == 0


def test_it_ends_every_session_when_the_secret_key_changes(dynamodb, settings):
    session = SessionStore()
    session["probe"] = "value"
    session.save()

    settings.SECRET_KEY = "another-secret-key-" + "x" * 40

    assert not SessionStore().exists(session.session_key)
    assert SessionStore(session.session_key).get("probe") is None


def test_it_ignores_an_expired_session_that_dynamodb_has_not_deleted_yet(dynamodb):
    session = SessionStore()
    session["probe"] = "value"
    session.save()
    SessionRecord(session_id=session_key_hash(session.session_key)).update(
        actions=[SessionRecord.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))]
    )

    loaded = SessionStore(session.session_key)

    assert loaded.get("probe") is None
    assert loaded.session_key is None
    assert not loaded.exists(session.session_key)


def test_it_never_revives_a_deleted_session_on_save(dynamodb):
    session = SessionStore()
    session["probe"] = "value"
    session.save()
    stale = SessionStore(session.session_key)
    assert stale["probe"] == "value"  # loaded while it still existed
    session.delete()  # e.g. signed out in another tab

    stale["probe"] = "changed"
    with pytest.raises(UpdateError):
        stale.save()
    assert not SessionStore().exists(session.session_key)


def test_it_gives_a_new_key_rather_than_reusing_an_unknown_one(dynamodb):
    session = SessionStore("a" * 32)
    session["probe"] = "value"
    session.save()

    assert session.session_key != "a" * 32
    assert not SessionStore().exists("a" * 32)


def test_it_ends_a_session_at_its_absolute_lifetime_however_active(dynamodb, settings):
    session = SessionStore()
    session.save()
    created = SessionRecord.get(session_key_hash(session.session_key)).created_at

    session["touched"] = True
    session.save()

    expected = created + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # DynamoDB's TTL attribute holds whole seconds.
    assert SessionRecord.get(session_key_hash(session.session_key)).expires_at == expected.replace(microsecond=0)


def test_it_deletes_every_session_of_a_user(dynamodb):
    keys = {}
    for user in ("1001", "1001", "1002"):
        session = SessionStore()
        session[SESSION_KEY] = user
        session.save()
        keys.setdefault(user, []).append(session.session_key)

    assert sessions_delete_for_user(1001) == 2
    assert [record.user_id for record in SessionRecord.scan()] == [1002]
    assert [SessionStore().exists(key) for key in keys["1001"] + keys["1002"]] == [False, False, True]
