"""The bank-account vault (ARCHITECTURE, R5.7 "store encrypted"): AES-256-GCM with key rotation."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from premiums_payments.adapters.vault import Vault, VaultError, new_instrument_token

ACCOUNT = "9876543210"


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_r5_7_an_account_number_round_trips_through_the_vault() -> None:
    vault = Vault(_key())
    token = new_instrument_token()
    key_id, sealed = vault.encrypt(ACCOUNT, token=token)
    assert key_id == vault.active_key_id
    assert vault.decrypt(key_id, sealed, token=token) == ACCOUNT


def test_r5_7_the_ciphertext_does_not_contain_the_account_number() -> None:
    vault = Vault(_key())
    _, sealed = vault.encrypt(ACCOUNT, token="tok_1")
    assert ACCOUNT.encode() not in sealed
    assert base64.b64encode(ACCOUNT.encode()) not in sealed


def test_encrypting_twice_gives_different_ciphertexts() -> None:
    vault = Vault(_key())
    assert vault.encrypt(ACCOUNT, token="tok_1")[1] != vault.encrypt(ACCOUNT, token="tok_1")[1]


def test_a_tampered_ciphertext_fails_to_decrypt() -> None:
    vault = Vault(_key())
    key_id, sealed = vault.encrypt(ACCOUNT, token="tok_1")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(InvalidTag):
        vault.decrypt(key_id, tampered, token="tok_1")
    flipped_body = sealed[:12] + bytes([sealed[12] ^ 0x80]) + sealed[13:]
    with pytest.raises(InvalidTag):
        vault.decrypt(key_id, flipped_body, token="tok_1")


def test_a_ciphertext_moved_to_another_instrument_token_fails() -> None:
    vault = Vault(_key())
    key_id, sealed = vault.encrypt(ACCOUNT, token="tok_1")
    with pytest.raises(InvalidTag):
        vault.decrypt(key_id, sealed, token="tok_2")


def test_key_rotation_new_key_first_encrypts_and_the_old_ciphertext_still_decrypts() -> None:
    old, new = _key(), _key()
    old_vault = Vault(old)
    old_id, old_sealed = old_vault.encrypt(ACCOUNT, token="tok_1")

    rotated = Vault(f"{new},{old}")
    assert rotated.active_key_id != old_id
    assert rotated.decrypt(old_id, old_sealed, token="tok_1") == ACCOUNT
    new_id, new_sealed = rotated.encrypt(ACCOUNT, token="tok_1")
    assert new_id == rotated.active_key_id == Vault(new).active_key_id
    assert rotated.decrypt(new_id, new_sealed, token="tok_1") == ACCOUNT

    with pytest.raises(VaultError, match="no longer configured"):
        old_vault.decrypt(new_id, new_sealed, token="tok_1")


def test_spaces_around_comma_separated_keys_are_tolerated() -> None:
    old, new = _key(), _key()
    assert Vault(f" {new} , {old} ").active_key_id == Vault(new).active_key_id


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_key_gives_a_plain_vault_error(value: str | None) -> None:
    with pytest.raises(VaultError, match="PREMIUMS_DATA_KEY is not set"):
        Vault(value)


@pytest.mark.parametrize(
    "value",
    [
        base64.urlsafe_b64encode(os.urandom(16)).decode(),  # AES-128 key: too short
        base64.urlsafe_b64encode(os.urandom(31)).decode(),
        base64.urlsafe_b64encode(os.urandom(33)).decode(),
        " , ",
    ],
)
def test_a_short_or_empty_key_gives_a_plain_vault_error(value: str) -> None:
    with pytest.raises(VaultError, match="base64url-encoded 32-byte keys"):
        Vault(value)


def test_one_short_key_among_good_ones_is_refused() -> None:
    with pytest.raises(VaultError):
        Vault(f"{_key()},{base64.urlsafe_b64encode(os.urandom(16)).decode()}")


@pytest.mark.parametrize("value", ["abcde", "x", "change-me"])
def test_a_malformed_short_key_gives_a_plain_vault_error(value: str) -> None:
    with pytest.raises(VaultError):
        Vault(value)


def test_instrument_tokens_are_unique_and_prefixed() -> None:
    tokens = {new_instrument_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(t.startswith("tok_") for t in tokens)
