"""R5.14: what each Notification of Change code corrects on the vaulted account, from its corrected data."""

from __future__ import annotations

import pytest
from premiums_payments.adapters.sandbox_bank import sandbox_correction
from premiums_payments.domain.bank_account import BankAccount
from premiums_payments.domain.corrections import (
    VAULT_CHANGES,
    UnusableCorrection,
    account_type_of,
    corrected_account,
    describe,
)

ACCOUNT = BankAccount("011000015", "000123456789", "checking", "Ana Rivera")


@pytest.mark.parametrize(
    ("code", "data", "expected"),
    [
        ("C01", "9876543210".ljust(29), ("011000015", "9876543210", "checking", "Ana Rivera")),
        ("C02", "021000021".ljust(29), ("021000021", "000123456789", "checking", "Ana Rivera")),
        # Nacha's C03 layout: routing 1–9, three spaces, account 13–29; tools also pad it to the right edge.
        ("C03", "021000021   55550001".ljust(29), ("021000021", "55550001", "checking", "Ana Rivera")),
        ("C03", "021000021" + "55550001".rjust(20), ("021000021", "55550001", "checking", "Ana Rivera")),
        ("C04", "ANA RIVERA-SOTO".ljust(29), ("011000015", "000123456789", "checking", "ANA RIVERA-SOTO")),
        ("C05", "37".ljust(29), ("011000015", "000123456789", "savings", "Ana Rivera")),
        # C06: account 1–17, four spaces, transaction code 22–23.
        ("C06", "55550001".ljust(21) + "32".ljust(8), ("011000015", "55550001", "savings", "Ana Rivera")),
        # C07: routing 1–9, account 10–26, transaction code 27–28.
        ("C07", "021000021" + "55550001".ljust(17) + "27 ", ("021000021", "55550001", "checking", "Ana Rivera")),
    ],
)
def test_r5_14_each_vault_change_code_corrects_only_its_own_fields(
    code: str, data: str, expected: tuple[str, str, str, str]
) -> None:
    fixed = corrected_account(ACCOUNT, code, data)
    assert (fixed.routing_number, fixed.account_number, fixed.account_type, fixed.holder_name) == expected
    assert fixed.last4 == expected[1][-4:]


def test_r5_14_the_codes_that_change_the_vault() -> None:
    assert sorted(VAULT_CHANGES) == ["C01", "C02", "C03", "C04", "C05", "C06", "C07"]
    assert describe("C01") == "incorrect account number" and describe("C99") == "an unknown change code"


@pytest.mark.parametrize(
    ("code", "data", "says"),
    [
        ("C01", " " * 29, "carries no corrected data"),
        ("C01", "1234 5678", "should have 1 parts, not 2"),
        ("C02", "123456789", "routing number is not valid"),
        ("C02", "ABCDEFGHI", "does not start with a 9-digit routing number"),
        ("C03", "021000021", "should have 1 parts, not 0"),
        ("C05", "99", "'99' is not a checking or savings code"),
        ("C06", "55550001", "should have 2 parts, not 1"),
        ("C01", "12", "must be 4 to 17 digits"),
        ("C09", "712345678", "C09 \\(incorrect individual identification number\\) does not change the bank account"),
        ("C13", "x", "does not change the bank account"),
    ],
)
def test_r5_14_a_correction_that_cannot_be_applied_says_why_without_the_account_number(
    code: str, data: str, says: str
) -> None:
    with pytest.raises(UnusableCorrection, match=says) as refused:
        corrected_account(ACCOUNT, code, data)
    assert ACCOUNT.account_number not in str(refused.value)


def test_r5_9_transaction_codes_name_the_account_type() -> None:
    assert [account_type_of(c) for c in ("22", "27", "32", "37")] == ["checking", "checking", "savings", "savings"]


@pytest.mark.parametrize(
    ("stored", "corrected"), [("000555550098", "555550098"), ("555550098", "555550098"), ("00000098", "00000098")]
)
def test_r5_14_the_sandbox_c01_names_the_account_without_leading_zeros_and_keeps_its_last_four(
    stored: str, corrected: str
) -> None:
    data = sandbox_correction(stored)
    assert len(data) == 29
    fixed = corrected_account(BankAccount("011000015", stored, "checking", "Ana Rivera"), "C01", data)
    assert fixed.account_number == corrected and fixed.last4 == "0098"
