"""Guest payments (R4.2): every identifier must match, and 5 mismatches in 24 hours lock the member ID."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from premiums_payments.domain.guest import (
    DOES_NOT_MATCH,
    GuestClaim,
    MemberRecord,
    identity_matches,
    locked_out,
    zip5,
)

RECORD = MemberRecord(
    member_id="123456789012",
    date_of_birth=date(1988, 4, 2),
    zip="02114",
    enrollments=frozenset({"RefID1234567890"}),
    billing_accounts=frozenset({"712345678"}),
)
BY_ENROLLMENT = GuestClaim("123456789012", date(1988, 4, 2), "02114", "RefID1234567890", None)
BY_BILLING_ACCOUNT = GuestClaim("123456789012", date(1988, 4, 2), "02114-1234", None, "712345678")


def test_r4_2_member_id_enrollment_date_of_birth_and_zip_match() -> None:
    assert identity_matches(RECORD, BY_ENROLLMENT)


def test_r4_2_the_billing_account_may_stand_in_for_the_enrollment_id_and_zip_plus_4_counts_as_the_zip() -> None:
    assert identity_matches(RECORD, BY_BILLING_ACCOUNT)


@pytest.mark.parametrize(
    "claim",
    [
        replace(BY_ENROLLMENT, member_id="999999999999"),
        replace(BY_ENROLLMENT, date_of_birth=date(1988, 4, 3)),
        replace(BY_ENROLLMENT, zip="02115"),
        replace(BY_ENROLLMENT, enrollment_id="RefID0000000000"),
        replace(BY_BILLING_ACCOUNT, billing_account="799999999"),
    ],
)
def test_r4_2_any_single_mismatch_refuses(claim: GuestClaim) -> None:
    assert not identity_matches(RECORD, claim)


def test_r4_2_a_member_we_do_not_know_never_matches() -> None:
    assert not identity_matches(None, BY_ENROLLMENT)


def test_r4_2_the_refusal_uses_the_ma_wording_and_names_no_field() -> None:
    assert DOES_NOT_MATCH.startswith("The information you entered about yourself does not match our records.")
    for field in ("birth", "ZIP", "zip", "Member ID", "billing", "enrollment"):
        assert field not in DOES_NOT_MATCH


def test_r4_2_five_mismatches_lock_the_member_id_four_do_not() -> None:
    assert not locked_out(4)
    assert locked_out(5)


def test_zip5_keeps_the_five_digit_zip() -> None:
    assert zip5(" 02114-1234 ") == "02114"
