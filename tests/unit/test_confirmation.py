"""Confirmation numbers (D12, R4.7): Crockford base32, XXXX-XXXX-XXX, with a mod-37 check symbol."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from premiums_payments.domain.confirmation import (
    ALPHABET,
    CHECK_SYMBOLS,
    check_symbol,
    is_valid_confirmation_number,
    new_confirmation_number,
)

_bodies = st.text(alphabet=ALPHABET, min_size=10, max_size=10)


def _format(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:8]}-{compact[8:]}"


def test_d12_the_alphabet_is_crockford_base32_without_i_l_o_u() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_d12_a_new_number_has_the_format_xxxx_xxxx_xxx_and_validates() -> None:
    for _ in range(500):
        number = new_confirmation_number()
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z][0-9A-Z][^-]", number), number
        compact = number.replace("-", "")
        assert all(c in ALPHABET for c in compact[:10])
        assert compact[10] in CHECK_SYMBOLS
        assert compact[10] == check_symbol(compact[:10])
        assert is_valid_confirmation_number(number)


def test_d12_r4_7_ten_thousand_confirmation_numbers_are_unique() -> None:
    numbers = {new_confirmation_number() for _ in range(10_000)}
    assert len(numbers) == 10_000


def test_d12_members_may_type_it_in_lower_case_without_hyphens_and_with_o_for_zero() -> None:
    body = "0000ABCDE1"
    number = _format(body + check_symbol(body))
    assert is_valid_confirmation_number(number)
    assert is_valid_confirmation_number(number.lower())
    assert is_valid_confirmation_number(number.replace("-", ""))
    assert is_valid_confirmation_number(number.replace("0", "O"))
    assert is_valid_confirmation_number(number.replace("1", "l"))


def test_d12_wrong_lengths_and_foreign_characters_are_invalid() -> None:
    assert not is_valid_confirmation_number("")
    assert not is_valid_confirmation_number("ABCD-EFGH-JK")
    assert not is_valid_confirmation_number("ABCD-EFGH-JKMN")
    assert not is_valid_confirmation_number("ABCD-EFGU-JK0")
    assert not is_valid_confirmation_number("AB!D-EFGH-JK0")


@given(_bodies, st.integers(0, 10), st.data())
def test_d12_a_single_changed_character_is_detected(body: str, position: int, data: st.DataObject) -> None:
    compact = body + check_symbol(body)
    pool = ALPHABET if position < 10 else CHECK_SYMBOLS
    replacement = data.draw(st.sampled_from([c for c in pool if c != compact[position]]))
    changed = compact[:position] + replacement + compact[position + 1 :]
    assert not is_valid_confirmation_number(_format(changed))


@given(_bodies, st.integers(0, 9))
def test_d12_an_adjacent_swap_is_detected(body: str, position: int) -> None:
    compact = body + check_symbol(body)
    if compact[position] == compact[position + 1] or {compact[position], compact[position + 1]} == {"0", "Z"}:
        return  # equal characters swap to the same number; 0<->Z is Luhn mod N's one blind spot
    swapped = compact[:position] + compact[position + 1] + compact[position] + compact[position + 2 :]
    assert not is_valid_confirmation_number(_format(swapped))


def test_d12_every_character_of_a_confirmation_number_is_a_read_aloud_symbol() -> None:
    """D12/R4.7: the number is read aloud on the phone and typed back, so it uses only 0-9 and A-Z without I/L/O/U.

    Crockford's check symbols `* ~ $ = U` end about 5 numbers in 37 (13.5%), e.g. `7KQ2-M9XD-4R~`: the
    member must say "tilde" or "dollar", cannot key it on a phone pad, and gets a `U`, which D12 excludes.
    """
    read_aloud = set(ALPHABET) | {"-"}
    numbers = [new_confirmation_number() for _ in range(10_000)]
    assert [n for n in numbers if not set(n) <= read_aloud] == []


def test_d12_luhn_mod_n_blind_spot_is_only_the_0_z_swap() -> None:
    """Every adjacent swap of two different symbols is detected, except 0 with Z."""
    undetected = set()
    for a in ALPHABET:
        for b in ALPHABET:
            if a == b:
                continue
            body = "ABCDEFGH" + a + b
            swapped = "ABCDEFGH" + b + a
            if check_symbol(body) == check_symbol(swapped):
                undetected.add(frozenset((a, b)))
    assert undetected == {frozenset(("0", "Z"))}
