import os

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from accounts.crypto import KmsCipher, LocalCipher, TokenDecryptionError

ALICE = {"purpose": "github-user-tokens", "userId": "1001"}
BOB = {"purpose": "github-user-tokens", "userId": "1002"}


def test_it_round_trips_with_the_local_key():
    cipher = LocalCipher(os.urandom(32))

    assert cipher.decrypt(cipher.encrypt(b"ghu_secret", ALICE), ALICE) == b"ghu_secret"


def test_it_refuses_a_local_blob_moved_to_another_user():
    cipher = LocalCipher(os.urandom(32))

    with pytest.raises(TokenDecryptionError):
        cipher.decrypt(cipher.encrypt(b"ghu_secret", ALICE), BOB)


def test_it_refuses_a_tampered_local_blob():
    cipher = LocalCipher(os.urandom(32))
    blob = bytearray(cipher.encrypt(b"ghu_secret", ALICE))
    blob[-1] ^= 1

    with pytest.raises(TokenDecryptionError):
        cipher.decrypt(bytes(blob), ALICE)


def test_it_never_stores_the_plaintext():
    assert b"ghu_secret" not in LocalCipher(os.urandom(32)).encrypt(b"ghu_secret", ALICE)


@pytest.fixture
def kms(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("kms", region_name="eu-west-2")
        yield client, client.create_key(Description="tokens")["KeyMetadata"]["KeyId"]


def test_it_round_trips_with_kms_envelope_encryption(kms):
    client, key_id = kms
    cipher = KmsCipher(key_id, client=client)

    blob = cipher.encrypt(b"ghu_secret", ALICE)

    assert b"ghu_secret" not in blob
    assert KmsCipher(key_id, client=client).decrypt(blob, ALICE) == b"ghu_secret"


def test_it_refuses_a_kms_blob_moved_to_another_user(kms):
    client, key_id = kms
    cipher = KmsCipher(key_id, client=client)

    with pytest.raises(TokenDecryptionError):
        KmsCipher(key_id, client=client).decrypt(cipher.encrypt(b"ghu_secret", ALICE), BOB)


def test_it_fails_closed_when_kms_refuses(kms):
    client, key_id = kms
    blob = KmsCipher(key_id, client=client).encrypt(b"ghu_secret", ALICE)
    # moto decrypts even with a disabled key; a Stubber gives the refusal KMS really sends.
    with Stubber(client) as stubber:
        stubber.add_client_error("decrypt", service_error_code="DisabledException", http_status_code=400)

        with pytest.raises(TokenDecryptionError, match="KMS refused to decrypt"):
            KmsCipher(key_id, client=client).decrypt(blob, ALICE)


@pytest.mark.parametrize("code", ["ThrottlingException", "KMSInternalException", "DependencyTimeoutException"])
def test_it_tells_a_passing_kms_failure_from_a_refusal(kms, code):
    from accounts.crypto import KeyServiceUnavailable

    client, key_id = kms
    blob = KmsCipher(key_id, client=client).encrypt(b"ghu_secret", ALICE)
    with Stubber(client) as stubber:
        stubber.add_client_error("decrypt", service_error_code=code, http_status_code=500)

        with pytest.raises(KeyServiceUnavailable):
            KmsCipher(key_id, client=client).decrypt(blob, ALICE)
