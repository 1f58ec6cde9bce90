"""Confirmation numbers (D12, R4.7): random, Crockford base32, safe to read aloud, with a check character.

The check character is computed with the Luhn mod N algorithm over the same 32 symbols, so every character
of a number can be said on the phone and keyed back (no I, L, O, U, no punctuation). Luhn mod N detects
every single wrong character and every swap of two adjacent characters except `0` with `Z` (the one pair
Luhn cannot tell apart, as 09/90 in base 10).
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET
_N = len(ALPHABET)


def check_symbol(symbols: str) -> str:
    """Luhn mod 32: double every second code point from the right, sum the base-32 digits of each."""
    total = 0
    factor = 2
    for symbol in reversed(symbols):
        addend = factor * ALPHABET.index(symbol)
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def new_confirmation_number() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(10))
    full = body + check_symbol(body)
    return f"{full[:4]}-{full[4:8]}-{full[8:]}"


def is_valid_confirmation_number(text: str) -> bool:
    """Accepts what a member reads back: any case, O for 0, I or L for 1, with or without hyphens."""
    compact = text.replace("-", "").upper().replace("O", "0").replace("I", "1").replace("L", "1")
    if len(compact) != 11 or any(c not in ALPHABET for c in compact):
        return False
    return check_symbol(compact[:10]) == compact[10]
