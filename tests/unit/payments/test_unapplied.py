"""Unapplied cash (R4.8): a mailed payment is matched by Enrollment ID, then Billing Account, then Member ID."""

from __future__ import annotations

from premiums_payments.domain.unapplied import MailMatch, match_mail_payment


def test_r4_8_the_enrollment_id_decides_first() -> None:
    match = match_mail_payment(by_enrollment=["RefID1"], by_billing_account=["RefID2"], by_member=["RefID3"])
    assert match == MailMatch("RefID1", None)


def test_r4_8_the_billing_account_decides_when_there_is_no_enrollment_id() -> None:
    assert match_mail_payment(by_enrollment=None, by_billing_account=["RefID2"], by_member=None).enrollment_id == (
        "RefID2"
    )


def test_r4_8_a_member_id_with_one_open_enrollment_is_enough() -> None:
    assert match_mail_payment(by_enrollment=None, by_billing_account=None, by_member=["RefID3"]).enrollment_id == (
        "RefID3"
    )


def test_r1_5_a_member_id_with_health_and_dental_open_is_held_unapplied() -> None:
    match = match_mail_payment(by_enrollment=None, by_billing_account=None, by_member=["RefID3", "RefID4"])
    assert match.enrollment_id is None and "2 open enrollments" in str(match.reason)


def test_r4_8_an_identifier_that_finds_nothing_holds_the_payment_with_the_reason() -> None:
    match = match_mail_payment(by_enrollment=[], by_billing_account=["RefID2"], by_member=None)
    assert match == MailMatch(None, "The Enrollment ID on the payment matches no open enrollment.")


def test_r4_8_a_payment_without_identifiers_is_held() -> None:
    match = match_mail_payment(by_enrollment=None, by_billing_account=None, by_member=None)
    assert match.enrollment_id is None and "without" in str(match.reason)
