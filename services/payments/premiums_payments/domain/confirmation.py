"""Confirmation numbers (D12, R4.7): random, Crockford base32, read aloud safely, with a check symbol."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET + "*~$=U"


def _value(symbols: str) -> int:
    number = 0
    for symbol in symbols:
        number = number * 32 + ALPHABET.index(symbol)
    return number


def check_symbol(symbols: str) -> str:
    """Crockford's mod-37 check symbol: catches any single wrong or swapped character."""
    return CHECK_SYMBOLS[_value(symbols) % 37]


def new_confirmation_number() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(10))
    full = body + check_symbol(body)
    return f"{full[:4]}-{full[4:8]}-{full[8:]}"


def is_valid_confirmation_number(text: str) -> bool:
    compact = text.replace("-", "").upper().replace("O", "0").replace("I", "1").replace("L", "1")
    if len(compact) != 11 or any(c not in ALPHABET for c in compact[:10]):
        return False
    return check_symbol(compact[:10]) == compact[10]
