"""The bank-account vault: full account numbers encrypted at rest with AES-256-GCM.

`PREMIUMS_DATA_KEY` holds one or more base64url keys separated by commas; the first encrypts, all
decrypt, so a key can be rotated by putting the new key first and re-encrypting at leisure. Each
ciphertext carries the id of its key. Decryption happens only to build a bank file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class VaultError(RuntimeError):
    pass


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


class Vault:
    def __init__(self, data_keys: str | None) -> None:
        if not data_keys:
            raise VaultError("PREMIUMS_DATA_KEY is not set: bank accounts cannot be stored without it")
        try:
            keys = [base64.urlsafe_b64decode(k.strip() + "==") for k in data_keys.split(",") if k.strip()]
        except (binascii.Error, ValueError):
            keys = []
        if not keys or any(len(k) != 32 for k in keys):
            raise VaultError("PREMIUMS_DATA_KEY must be base64url-encoded 32-byte keys, comma-separated")
        self._keys = {_key_id(k): AESGCM(k) for k in keys}
        self.active_key_id = _key_id(keys[0])

    def encrypt(self, account_number: str, *, token: str) -> tuple[str, bytes]:
        nonce = os.urandom(12)
        sealed = self._keys[self.active_key_id].encrypt(nonce, account_number.encode(), token.encode())
        return self.active_key_id, nonce + sealed

    def decrypt(self, key_id: str, ciphertext: bytes, *, token: str) -> str:
        if key_id not in self._keys:
            raise VaultError(f"data key {key_id} is no longer configured")
        return self._keys[key_id].decrypt(ciphertext[:12], ciphertext[12:], token.encode()).decode()


def correction_context(payment_id: str) -> str:
    """What a NOC's sealed corrected data is bound to (its associated data): the payment it corrects."""
    return f"noc/{payment_id}"


def new_instrument_token() -> str:
    return "tok_" + secrets.token_urlsafe(18)
