"""Signing in with GitHub, through the simulator's real OAuth endpoints."""

import json
import logging
import urllib.parse

import boto3
import requests
from django.test import Client

from accounts.models import SessionRecord, UserRecord
from accounts.sessions import session_key_hash
from dashboard.lib.dynamo import table_models
from tests.plugins.github import sign_in


def test_it_signs_in_and_shows_the_users_name(client, dynamodb, github_sim):
    response = sign_in(client, "alice")

    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert b'data-testid="user-name">Alice Archer<' in page.content


def test_it_returns_to_the_page_asked_for(client, dynamodb, github_sim):
    response = sign_in(client, "alice", next_url="/settings/")

    assert response["Location"] == "/settings/"


def test_it_refuses_to_return_to_another_site(client, dynamodb, github_sim):
    response = sign_in(client, "alice", next_url="https://evil.example/")

    assert response["Location"] == "/"


def test_it_stores_the_user_by_github_id(client, dynamodb, github_sim):
    sign_in(client, "alice")

    record = UserRecord.get(1001)
    assert (record.login, record.name) == ("alice", "Alice Archer")
    assert record.token_ciphertext


def test_it_changes_the_session_key_on_sign_in(client, dynamodb, github_sim, settings):
    client.get("/auth/github")
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    sign_in(client, "alice")

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionRecord.count(session_key_hash(before))
    assert SessionRecord.get(session_key_hash(after)).user_id == 1001


def _callback_url(client, login="alice"):
    """Start signing in and approve at the simulator, but stop before the callback."""
    authorize = client.get("/auth/github")["Location"]
    approved = requests.get(authorize, params={"login": login}, allow_redirects=False, timeout=10)
    callback = urllib.parse.urlsplit(approved.headers["Location"])
    return f"{callback.path}?{callback.query}"


def test_it_refuses_a_replayed_callback(client, dynamodb, github_sim):
    callback = _callback_url(client)
    assert client.get(callback).status_code == 302

    replayed = client.get(callback)

    assert replayed.status_code == 400
    assert b"no longer valid" in replayed.content


def test_it_refuses_a_callback_from_another_browser(client, dynamodb, github_sim):
    callback = _callback_url(client)

    other_browser = Client()
    response = other_browser.get(callback)

    assert response.status_code == 400
    assert not other_browser.get("/auth/session").json()["authenticated"]


def test_it_refuses_a_tampered_state(client, dynamodb, github_sim):
    callback = _callback_url(client)
    tampered = callback.replace("state=", "state=x")

    assert client.get(tampered).status_code == 400


def test_it_fails_when_the_pkce_verifier_does_not_match(client, dynamodb, github_sim):
    callback = _callback_url(client)
    session = client.session
    states = session["socialaccount_states"]
    for state in states.values():
        state[0]["pkce_code_verifier"] = "x" * 64
    session["socialaccount_states"] = states
    session.save()

    response = client.get(callback)

    assert response.status_code == 400
    assert b"GitHub refused this sign-in" in response.content
    assert not client.get("/auth/session").json()["authenticated"]


def test_it_shows_a_clear_page_when_github_is_down_during_sign_in(client, dynamodb, github_sim):
    callback = _callback_url(client)
    github_sim.stop()

    response = client.get(callback)

    assert response.status_code == 502
    assert b"GitHub is not answering" in response.content


def test_it_signs_out_and_the_old_cookie_no_longer_works(dynamodb, github_sim, settings):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, "alice")
    old_cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    browser.get("/")  # sets the CSRF cookie
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value

    response = browser.post("/auth/logout", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 302
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    assert replay.get("/auth/session").json() == {"authenticated": False}
    assert b'data-testid="signed-out"' in replay.get("/").content


def test_it_enforces_csrf_on_logout(dynamodb, github_sim):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, "alice")

    assert browser.post("/auth/logout").status_code == 403
    assert browser.get("/auth/session").json()["authenticated"]


def test_it_signs_out_only_by_post(client, dynamodb, github_sim):
    sign_in(client, "alice")

    assert client.get("/auth/logout").status_code == 405
    assert client.get("/auth/session").json()["authenticated"]


def test_it_describes_the_session_without_any_token(client, dynamodb, github_sim):
    assert client.get("/auth/session").json() == {"authenticated": False}
    sign_in(client, "alice")

    body = client.get("/auth/session").json()

    assert body["authenticated"] is True
    assert body["user"] == {
        "id": 1001,
        "login": "alice",
        "name": "Alice Archer",
        "avatar_url": body["user"]["avatar_url"],
    }
    assert body["token_expires_at"]
    assert "token" not in json.dumps({k: v for k, v in body.items() if k != "token_expires_at"})


def test_it_sets_session_cookies_httponly_and_samesite_lax(client, dynamodb, github_sim, settings):
    sign_in(client, "alice")

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"


def test_it_uses_host_prefixed_secure_cookies_in_production(run_manage):
    from tests.conftest import PRODUCTION_ENV

    probe = (
        "from django.conf import settings as s; import json; print(json.dumps([s.SESSION_COOKIE_NAME, "
        "s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_NAME, "
        "s.CSRF_COOKIE_SECURE]))"
    )
    result = run_manage("shell", "-c", probe, env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "__Host-session",
        True,
        True,
        "Lax",
        "__Host-csrftoken",
        True,
    ]


def test_it_leaks_no_token_into_responses_logs_or_tables(client, dynamodb, github_sim, caplog, settings):
    caplog.set_level(logging.DEBUG)
    responses = [sign_in(client, "alice"), client.get("/"), client.get("/auth/session"), client.get("/settings/")]
    issued = [*github_sim.auth.tokens, *github_sim.auth.refresh_tokens]
    assert issued, "the simulator issued no token: the check below would prove nothing"

    raw = boto3.client(
        "dynamodb",
        region_name="eu-west-2",
        endpoint_url=settings.DYNAMODB_ENDPOINT_URL,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    scanned = json.dumps([raw.scan(TableName=model.Meta.table_name)["Items"] for model in table_models()], default=str)
    seen = [scanned, caplog.text, *(response.content.decode() for response in responses)]
    seen += [str(response.headers) for response in responses]
    for text in seen:
        for prefix in ("ghu_", "ghr_", "gho_"):
            assert prefix not in text
        for token in issued:
            assert token not in text
