"""Encryption of GitHub tokens at rest, behind one small interface.

Production uses AWS KMS envelope encryption: a fresh data key per encryption (GenerateDataKey), the token
sealed with AES-256-GCM under it, and only the KMS-encrypted data key stored beside it. Development and tests
use a local AES key. Either way the ciphertext is bound to its owner through an encryption context (KMS) and
the GCM associated data, so a blob copied onto another user's item does not decrypt.

Decryption failures raise `TokenDecryptionError`; callers treat the token as absent (fail closed).
"""

import base64
import hashlib
import json
import os
import struct
import threading
import time
from functools import cache

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_LOCAL = b"\x01"
_KMS = b"\x02"
_NONCE_BYTES = 12


class TokenDecryptionError(Exception):
    """A sealed token cannot be opened: wrong owner, tampered, unknown format, or KMS refuses for good."""


class KeyServiceUnavailable(Exception):
    """KMS did not answer usefully (throttled, timed out, failing): the token may open on a later try."""


# KMS's answers that mean this blob will never open with this key; anything else is worth another try.
PERMANENT_REFUSALS = {
    "InvalidCiphertextException",
    "IncorrectKeyException",
    "AccessDeniedException",
    "DisabledException",
    "NotFoundException",
    "KMSInvalidStateException",
    "InvalidKeyUsageException",
}


def _associated_data(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


class LocalCipher:
    """AES-256-GCM under a key from settings; for local stages only."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _LOCAL + nonce + self._aead.encrypt(nonce, plaintext, _associated_data(context))

    def decrypt(self, blob: bytes, context: dict[str, str]) -> bytes:
        if not blob.startswith(_LOCAL):
            raise TokenDecryptionError("not sealed with the local key")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, _associated_data(context))
        except InvalidTag:
            raise TokenDecryptionError("the local key does not open this token") from None


class KmsCipher:
    """Envelope encryption with a KMS key; plaintext data keys are cached briefly to spare a KMS call per request."""

    CACHE_SECONDS = 300
    CACHE_ENTRIES = 512

    def __init__(self, key_id: str, client=None):
        self._key_id = key_id
        self._client = client
        self._cache: dict[bytes, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            import botocore.session

            self._client = botocore.session.get_session().create_client("kms", region_name=settings.DYNAMODB_REGION)
        return self._client

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        data_key = self.client.generate_data_key(KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=context)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, _associated_data(context))
        wrapped = data_key["CiphertextBlob"]
        return _KMS + struct.pack(">H", len(wrapped)) + wrapped + nonce + sealed

    def decrypt(self, blob: bytes, context: dict[str, str]) -> bytes:
        if not blob.startswith(_KMS) or len(blob) < 3:
            raise TokenDecryptionError("not sealed with KMS")
        (length,) = struct.unpack(">H", blob[1:3])
        wrapped = blob[3 : 3 + length]
        nonce = blob[3 + length : 3 + length + _NONCE_BYTES]
        sealed = blob[3 + length + _NONCE_BYTES :]
        try:
            return AESGCM(self._data_key(wrapped, context)).decrypt(nonce, sealed, _associated_data(context))
        except InvalidTag:
            raise TokenDecryptionError("the data key does not open this token") from None

    def _data_key(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        cache_key = hashlib.sha256(wrapped + _associated_data(context)).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached and cached[0] > now:
                return cached[1]
        try:
            plaintext = self.client.decrypt(CiphertextBlob=wrapped, EncryptionContext=context, KeyId=self._key_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in PERMANENT_REFUSALS:
                raise TokenDecryptionError(f"KMS refused to decrypt: {code}") from error
            raise KeyServiceUnavailable(f"KMS did not decrypt: {code}") from error
        except BotoCoreError as error:
            raise KeyServiceUnavailable(f"KMS did not answer: {type(error).__name__}") from error
        with self._lock:
            if len(self._cache) >= self.CACHE_ENTRIES:
                self._cache.clear()
            self._cache[cache_key] = (now + self.CACHE_SECONDS, plaintext["Plaintext"])
        return plaintext["Plaintext"]


@cache
def token_cipher() -> LocalCipher | KmsCipher:
    """The cipher for this stage: KMS when TOKEN_KMS_KEY_ID is set, the local key otherwise."""
    if settings.TOKEN_KMS_KEY_ID:
        return KmsCipher(settings.TOKEN_KMS_KEY_ID)
    return LocalCipher(base64.urlsafe_b64decode(settings.TOKEN_LOCAL_KEY))
