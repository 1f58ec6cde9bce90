"""Bank-account validation: ABA routing checksum and prefix (R5.6), account number (R5.7), cards refused (D16)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from premiums_payments.domain.bank_account import (
    InvalidBankAccount,
    normalize_account_number,
    refuse_non_bank_method,
    validate_bank_account,
    validate_routing_number,
)

VALID_ROUTING = "011000015"
ACCOUNT = "9876543210"


def _with_check_digit(first8: str) -> str:
    """R5.6: d9 = (10 - (3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6)) mod 10) mod 10."""
    d = [int(c) for c in first8]
    total = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5])
    return first8 + str((10 - total % 10) % 10)


def _checksum_ok(routing: str) -> bool:
    d = [int(c) for c in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 == 0


@pytest.mark.parametrize("routing", ["011000015", "021000021", "011000028", "091000019", "026009593"])
def test_r5_6_published_test_vectors_are_valid(routing: str) -> None:
    assert validate_routing_number(routing) == routing


def test_r5_6_123456789_fails_the_checksum() -> None:
    with pytest.raises(InvalidBankAccount, match="not valid"):
        validate_routing_number("123456789")


def test_r5_6_123456780_is_checksum_valid_with_prefix_12_so_it_passes_the_local_checks() -> None:
    """R5.6: fictitious but checksum-valid, and 12 is a Federal Reserve prefix; only a directory lookup catches it."""
    assert validate_routing_number("123456780") == "123456780"


_BAD_PREFIXES = [*range(13, 21), *range(33, 61), *range(73, 80), *range(81, 100)]
_GOOD_PREFIXES = [*range(0, 13), *range(21, 33), *range(61, 73), 80]


@pytest.mark.parametrize("prefix", _BAD_PREFIXES)
def test_r5_6_checksum_valid_routing_number_with_a_non_fed_prefix_is_refused(prefix: int) -> None:
    routing = _with_check_digit(f"{prefix:02d}100001")
    assert _checksum_ok(routing)
    with pytest.raises(InvalidBankAccount, match="does not belong to a US bank"):
        validate_routing_number(routing)


@pytest.mark.parametrize("prefix", _GOOD_PREFIXES)
def test_r5_6_checksum_valid_routing_number_with_a_fed_prefix_is_accepted(prefix: int) -> None:
    routing = _with_check_digit(f"{prefix:02d}100001")
    assert validate_routing_number(routing) == routing


@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_r5_6_any_nine_digits_are_accepted_exactly_when_checksum_and_prefix_hold(routing: str) -> None:
    expected = _checksum_ok(routing) and int(routing[:2]) in _GOOD_PREFIXES
    try:
        validate_routing_number(routing)
        accepted = True
    except InvalidBankAccount:
        accepted = False
    assert accepted == expected


def test_r5_6_surrounding_spaces_are_tolerated() -> None:
    assert validate_routing_number(" 011000015 ") == "011000015"


@pytest.mark.parametrize(
    "routing",
    ["", "01100001", "0110000155", "01100001A", "0110-0001", "O11000015", "０１１０００ ０１５", "01100 0015"],
)
def test_r5_6_routing_number_must_be_exactly_nine_ascii_digits(routing: str) -> None:
    with pytest.raises(InvalidBankAccount, match="exactly 9 digits"):
        validate_routing_number(routing)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("1234", "1234"),
        ("12345678901234567", "12345678901234567"),
        ("9876 5432 10", "9876543210"),
        ("9876-5432-10", "9876543210"),
        (" 98-76 54\t32 10 ", "9876543210"),
    ],
)
def test_r5_7_account_number_of_4_to_17_digits_after_stripping_spaces_and_hyphens(raw: str, stored: str) -> None:
    account = validate_bank_account(VALID_ROUTING, raw, "checking", "Ana Silva")
    assert account.account_number == stored
    assert account.last4 == stored[-4:]
    assert normalize_account_number(raw) == stored


@pytest.mark.parametrize("raw", ["", "123", "1-2-3", "123456789012345678", "12345ABC", "1234.5678", "1234/5678"])
def test_r5_7_bad_account_number_is_refused_without_echoing_it(raw: str) -> None:
    with pytest.raises(InvalidBankAccount) as caught:
        validate_bank_account(VALID_ROUTING, raw, "checking", "Ana Silva")
    message = str(caught.value)
    assert "4 to 17 digits" in message
    if normalize_account_number(raw):
        assert normalize_account_number(raw) not in message
        assert raw not in message


@pytest.mark.parametrize("account_type", ["checking", "savings"])
def test_r5_7_checking_and_savings_are_the_account_types(account_type: str) -> None:
    account = validate_bank_account(VALID_ROUTING, ACCOUNT, account_type, "  Ana Silva ")
    assert account.account_type == account_type
    assert account.holder_name == "Ana Silva"
    assert account.routing_number == VALID_ROUTING


@pytest.mark.parametrize("account_type", ["credit", "money_market", "Checking", "", "brokerage"])
def test_r5_7_other_account_types_are_refused(account_type: str) -> None:
    with pytest.raises(InvalidBankAccount, match="checking or savings"):
        validate_bank_account(VALID_ROUTING, ACCOUNT, account_type, "Ana Silva")


def test_r5_7_the_name_on_the_account_is_required() -> None:
    with pytest.raises(InvalidBankAccount, match="name on the bank account"):
        validate_bank_account(VALID_ROUTING, ACCOUNT, "checking", "   ")


@pytest.mark.parametrize(
    ("routing", "account_type", "holder"),
    [
        ("123456789", "checking", "Ana"),
        ("0110", "checking", "Ana"),
        (VALID_ROUTING, "credit", "Ana"),
        (VALID_ROUTING, "checking", ""),
    ],
)
def test_r5_7_no_error_message_contains_the_account_number(routing: str, account_type: str, holder: str) -> None:
    with pytest.raises(InvalidBankAccount) as caught:
        validate_bank_account(routing, ACCOUNT, account_type, holder)
    assert ACCOUNT not in str(caught.value)
    assert ACCOUNT[-4:] not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "named"),
    [("card", "card"), ("credit_card", "credit card"), ("debit_card", "debit card"), ("paypal", "paypal")],
)
def test_d16_r4_1_cards_and_paypal_are_refused_naming_what_is_accepted(method: str, named: str) -> None:
    with pytest.raises(InvalidBankAccount) as caught:
        refuse_non_bank_method(method)
    message = str(caught.value)
    assert f"We do not accept {named} payments" in message
    assert "checking or savings account" in message
    assert "check or money order" in message


def test_d16_a_bank_account_is_accepted() -> None:
    refuse_non_bank_method("bank_account")
