"""KMS failing to decrypt users' tokens: the app fails closed, says so, and does not take it for a revocation.

Tokens are sealed with the real KMS envelope cipher (accounts/crypto.py) against moto's KMS; the failure is
KMS's own answer (KMSInternalException, as when KMS is failing or throttled) made at botocore's `before-call`
event, since moto never fails. Each case starts with the cipher's cache of data keys empty, as a new container.
"""

import boto3
import pytest
from django.test import Client
from moto import mock_aws

from accounts import crypto
from accounts.models import SessionRecord, UserRecord
from tests.plugins.github import sign_in
from tests.realtime.test_websocket import _age_visibility
from tests.resilience.conftest import USER_IDS, VISIBLE, signed_in


class FailingKeyService:
    """Makes KMS's Decrypt fail (switchable), as KMS does when it is down or throttled."""

    def __init__(self, cipher: crypto.KmsCipher):
        self.cipher = cipher
        self.failing = False
        self.refused = 0
        cipher.client.meta.events.register_first("before-call.kms.Decrypt", self._answer)

    def fail(self, failing: bool = True) -> None:
        self.failing = failing
        self.cipher._cache.clear()  # a container that has not opened these tokens yet

    def _answer(self, **kwargs):
        if not self.failing:
            return None
        from botocore.awsrequest import AWSResponse

        self.refused += 1
        error = {"Code": "KMSInternalException", "Message": "An internal error occurred."}
        return AWSResponse("https://kms.eu-west-2.amazonaws.com/", 500, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 500, "HTTPHeaders": {}},
        }


@pytest.fixture
def key_service(dynamodb, settings, monkeypatch):
    """Tokens sealed with KMS envelope encryption, as in production, by moto's KMS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        key_id = boto3.client("kms", region_name="eu-west-2").create_key(Description="tokens")["KeyMetadata"]["KeyId"]
        settings.TOKEN_KMS_KEY_ID = key_id
        crypto.token_cipher.cache_clear()
        cipher = crypto.token_cipher()
        assert isinstance(cipher, crypto.KmsCipher)
        yield FailingKeyService(cipher)
    crypto.token_cipher.cache_clear()


def test_a_failing_key_service_uses_no_token_shows_nothing_new_and_signs_nobody_out(key_service, github_sim):
    alice, bob, dana = signed_in("alice"), signed_in("bob"), Client()
    sign_in(dana, "dana")  # signed in, but has never been shown anything
    before = {user_id: UserRecord.get(user_id) for user_id in USER_IDS.values() if user_id != USER_IDS["charlie"]}
    _age_visibility(USER_IDS["alice"])  # alice's kept answer must be renewed with her token; bob's is fresh
    key_service.fail()
    github_sim.reset_counters()

    alice_view = alice.get("/api/repos")
    rerun = alice.post("/api/repos/acme/api/runs/1/rerun")
    dana_view = dana.get("/api/repos")
    bob_view = bob.get("/api/repos")

    assert key_service.refused
    # No token was used: nothing reached GitHub with any user's credentials.
    assert not set(github_sim.request_counts()["by_identity"]) & set(USER_IDS)
    # alice is shown only what she was shown before, marked stale, with the reason.
    assert alice_view.status_code == 200
    assert alice_view.json()["stale"] is True
    assert "key service" in alice_view.json()["stale_reason"]
    assert {repo["full_name"] for repo in alice_view.json()["repos"]} == VISIBLE["alice"]
    # What needs her token, and dana's first view, fail with a clear error and show nothing.
    assert rerun.status_code == 502
    assert dana_view.status_code == 502
    assert set(dana_view.json()) == {"error"}
    # bob's kept answer needs no token: served as usual, his own.
    assert bob_view.status_code == 200
    assert {repo["full_name"] for repo in bob_view.json()["repos"]} == VISIBLE["bob"]
    # Not a revocation: every session lives, every sealed token is still there.
    signed_in_users = {record.user_id for record in SessionRecord.scan() if record.user_id}
    assert signed_in_users == {USER_IDS["alice"], USER_IDS["bob"], USER_IDS["dana"]}
    for user_id, record in before.items():
        after = UserRecord.get(user_id)
        assert (after.token_ciphertext, after.token_version) == (record.token_ciphertext, record.token_version)

    key_service.fail(False)

    assert alice.get("/api/repos").json()["stale"] is False
    assert {repo["full_name"] for repo in dana.get("/api/repos").json()["repos"]} == VISIBLE["dana"]
    assert github_sim.request_counts()["by_identity"]["alice"]
