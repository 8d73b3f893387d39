"""Token refresh: before expiry, once across containers, and the end of access when GitHub refuses."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import SessionRecord, UserRecord
from accounts.tokens import NoToken, tokens_open, user_access_token
from dashboard.lib import github
from tests.plugins.github import sign_in

ALICE = 1001


def _expire_access_token(user_id=ALICE, *, by=timedelta(seconds=1)):
    UserRecord(user_id=user_id).update(actions=[UserRecord.access_token_expires_at.set(datetime.now(UTC) - by)])


def _refresh_calls(sim) -> int:
    return sum(sim.request_counts()["by_route"].get("POST /login/oauth/access_token", {}).values())


def test_it_returns_the_stored_token_while_it_is_fresh(client, dynamodb, github_sim):
    sign_in(client, "alice")
    github_sim.reset_counters()

    token = user_access_token(ALICE)

    assert token == tokens_open(UserRecord.get(ALICE)).access_token
    assert _refresh_calls(github_sim) == 0
    assert github.get("/user", token=token)["login"] == "alice"


def test_it_refreshes_a_token_about_to_expire(client, dynamodb, github_sim):
    sign_in(client, "alice")
    before = UserRecord.get(ALICE)
    UserRecord(user_id=ALICE).update(
        actions=[UserRecord.access_token_expires_at.set(datetime.now(UTC) + timedelta(minutes=2))]
    )

    token = user_access_token(ALICE)

    after = UserRecord.get(ALICE)
    assert token != tokens_open(before).access_token
    assert after.token_version == before.token_version + 1
    assert after.refresh_lease is None
    assert github.get("/user", token=token)["login"] == "alice"


def test_it_refreshes_once_for_fifty_concurrent_requests(client, dynamodb, github_sim):
    sign_in(client, "alice")
    _expire_access_token()
    github_sim.reset_counters()

    with ThreadPoolExecutor(max_workers=50) as pool:
        tokens = list(pool.map(lambda _: user_access_token(ALICE), range(50)))

    assert _refresh_calls(github_sim) == 1
    assert len(set(tokens)) == 1
    assert github.get("/user", token=tokens[0])["login"] == "alice"


def test_it_fails_closed_when_github_refuses_the_refresh(client, dynamodb, github_sim):
    sign_in(client, "alice")
    github_sim.revoke("alice")
    _expire_access_token()

    with pytest.raises(NoToken, match="refused to refresh"):
        user_access_token(ALICE)
    assert UserRecord.get(ALICE).refresh_lease is None


def test_it_leaves_the_token_for_a_later_try_when_github_is_down(client, dynamodb, github_sim):
    sign_in(client, "alice")
    before = UserRecord.get(ALICE)
    _expire_access_token()
    github_sim.stop()

    with pytest.raises(github.GitHubUnavailable):
        user_access_token(ALICE)
    after = UserRecord.get(ALICE)
    assert (after.token_version, after.refresh_lease) == (before.token_version, None)
    assert tokens_open(after).refresh_token == tokens_open(before).refresh_token


def test_it_ends_every_session_when_github_answers_401(client, dynamodb, github_sim):
    sign_in(client, "alice")
    github_sim.revoke("alice")

    response = client.get("/settings/")

    assert response.status_code == 302
    assert not client.get("/auth/session").json()["authenticated"]
    assert [record for record in SessionRecord.scan() if record.user_id == ALICE] == []
    assert UserRecord.get(ALICE).token_ciphertext is None


def test_it_answers_401_json_on_the_api_when_the_authorization_ended(client, dynamodb, github_sim):
    sign_in(client, "alice")
    github_sim.revoke("alice")

    response = client.put("/api/settings", {"selected_repos": []}, content_type="application/json")

    assert response.status_code == 401
    assert "authorization has ended" in response.json()["error"]


def test_it_keeps_the_user_signed_in_when_the_key_service_stumbles(client, dynamodb, github_sim, monkeypatch):
    from accounts import crypto, tokens

    sign_in(client, "alice")

    class Stumbling:
        def decrypt(self, blob, context):
            raise crypto.KeyServiceUnavailable("KMS did not decrypt: ThrottlingException")

    monkeypatch.setattr(tokens, "token_cipher", lambda: Stumbling())

    with pytest.raises(github.GitHubUnavailable):
        user_access_token(ALICE)
    response = client.put("/api/settings", {"theme": "dark"}, content_type="application/json")
    assert response.status_code != 401
    assert UserRecord.get(ALICE).token_ciphertext is not None
    assert [record for record in SessionRecord.scan() if record.user_id == ALICE]
