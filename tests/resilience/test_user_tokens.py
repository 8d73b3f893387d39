"""Users' GitHub tokens expiring or revoked mid-session: refreshed before use, or access ended, for that user only."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from django.test import Client

from accounts.models import SessionRecord, UserRecord
from tests.plugins.github import sign_in
from tests.realtime.test_websocket import _age_visibility
from tests.resilience.conftest import USER_IDS, VISIBLE, signed_in

REFRESH_ROUTE = "POST /login/oauth/access_token"


def _expired_by_the_apps_reckoning(user_id: int) -> None:
    UserRecord(user_id=user_id).update(
        actions=[UserRecord.access_token_expires_at.set(datetime.now(UTC) - timedelta(seconds=1))]
    )


def test_tokens_that_expired_are_refreshed_before_use_for_each_user_at_once_and_never_sent(dynamodb, github_sim):
    browsers = {login: signed_in(login) for login in ("alice", "bob", "dana")}
    github_sim.expire_tokens(kind="user")  # GitHub refuses every user token from now on
    for login in browsers:
        _expired_by_the_apps_reckoning(USER_IDS[login])
        _age_visibility(USER_IDS[login])  # so each view must ask GitHub, with the user's own token
    github_sim.reset_counters()

    with ThreadPoolExecutor(max_workers=3) as pool:
        views = dict(zip(browsers, pool.map(lambda browser: browser.get("/api/repos"), browsers.values()), strict=True))

    counts = github_sim.request_counts()
    assert "401" not in counts["by_status"]  # no expired token was ever sent
    assert sum(counts["by_route"][REFRESH_ROUTE].values()) == len(browsers)  # one refresh per user
    for login, response in views.items():
        assert response.status_code == 200
        body = response.json()
        assert body["stale"] is False
        assert {repo["full_name"] for repo in body["repos"]} == VISIBLE[login]
        assert counts["by_identity"][login]  # each asked GitHub with their own new token
    assert {record.user_id for record in SessionRecord.scan()} == {USER_IDS[login] for login in browsers}


def test_a_token_github_stopped_accepting_ends_that_users_access_everywhere_and_nobody_elses(dynamodb, github_sim):
    alice, bob = signed_in("alice"), signed_in("bob")
    alice_elsewhere = Client()
    sign_in(alice_elsewhere, "alice")
    github_sim.revoke("alice")  # its webhook never reaches the app: the next request to GitHub finds out
    for login in ("alice", "bob"):
        _age_visibility(USER_IDS[login])

    ended = alice.get("/api/repos")
    elsewhere = alice_elsewhere.get("/api/repos")
    unaffected = bob.get("/api/repos")

    assert ended.status_code == 401
    assert "authorization has ended" in ended.json()["error"]
    assert elsewhere.status_code == 401  # every session of hers, not only the one that found out
    assert [record for record in SessionRecord.scan() if record.user_id == USER_IDS["alice"]] == []
    assert UserRecord.get(USER_IDS["alice"]).token_ciphertext is None
    assert unaffected.status_code == 200
    assert {repo["full_name"] for repo in unaffected.json()["repos"]} == VISIBLE["bob"]
    assert unaffected.json()["stale"] is False


def test_a_feed_link_whose_owner_github_stopped_accepting_is_refused_and_asks_github_once(dynamodb, github_sim):
    """Revoked at GitHub with no webhook (or a refresh refused): the feed link ends, as a signed-in session would."""
    alice = signed_in("alice")
    token = re.search(r"token=([^<]+)<", alice.post("/settings/feed-token").content.decode()).group(1)
    monitor = Client()
    assert monitor.get("/cctray.xml", {"token": token}).status_code == 200
    github_sim.revoke("alice")  # its webhook never reaches the app
    _age_visibility(USER_IDS["alice"])
    github_sim.reset_counters()

    polls = [monitor.get(path, {"token": token}) for path in ("/cctray.xml", "/overview.json") * 3]

    assert [poll.status_code for poll in polls] == [401] * 6
    assert polls[0].content == Client().get("/cctray.xml", {"token": "1001.wrong"}).content
    assert polls[1].json() == Client().get("/overview.json", {"token": "1001.wrong"}).json()
    assert sum(github_sim.request_counts()["by_identity"].get("alice", {}).values()) <= 1
    assert UserRecord.get(USER_IDS["alice"]).token_ciphertext is None
    assert [record for record in SessionRecord.scan() if record.user_id == USER_IDS["alice"]] == []
