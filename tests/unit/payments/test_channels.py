"""Staff channels: phone payments carry a TEL authorization (R5.3); mail is a check or money order (D1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from premiums_payments.domain.channels import (
    ChannelRefused,
    TelAuthorization,
    check_mail_payment,
    check_tel_authorization,
    closed_enrollment_reason,
    mail_clears_on,
)

TODAY = date(2027, 1, 20)
AUTH = TelAuthorization(
    authorized_on=TODAY,
    amount=Decimal("312.40"),
    consumer_name="Ana Rivera",
    single_entry=True,
    recording_reference="CALL-1",
)


def test_r5_3_a_recorded_single_entry_authorization_for_the_same_amount_is_enough() -> None:
    check_tel_authorization(AUTH, amount=Decimal("312.40"), today=TODAY)


def test_r5_3_a_written_notice_may_replace_the_recording() -> None:
    notice = replace(AUTH, recording_reference=None, written_notice_reference="LTR-7")
    check_tel_authorization(notice, amount=Decimal("312.40"), today=TODAY)
    assert notice.customer_service_phone == "1-877-623-6765"


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        (replace(AUTH, amount=Decimal("300.00")), "authorized amount"),
        (replace(AUTH, consumer_name="  "), "name"),
        (replace(AUTH, single_entry=False), "single-entry"),
        (replace(AUTH, recording_reference=None), "recording"),
        (replace(AUTH, authorized_on=date(2027, 1, 21)), "future"),
    ],
)
def test_r5_3_an_incomplete_tel_authorization_is_refused(auth: TelAuthorization, words: str) -> None:
    with pytest.raises(ChannelRefused, match=words):
        check_tel_authorization(auth, amount=Decimal("312.40"), today=TODAY)


def test_d1_a_check_with_its_number_or_a_money_order_deposited_by_today_is_accepted() -> None:
    check_mail_payment("check", "1042", TODAY, today=TODAY)
    check_mail_payment("money_order", None, date(2027, 1, 18), today=TODAY)


@pytest.mark.parametrize(
    ("method", "number", "received", "words"),
    [
        ("cash", None, TODAY, "check or a money order"),
        ("check", None, TODAY, "check number"),
        ("check", " ", TODAY, "check number"),
        ("check", "1042", date(2027, 1, 21), "deposit date"),
    ],
)
def test_d1_mail_payments_need_a_method_a_check_number_and_a_past_deposit_date(
    method: str, number: str | None, received: date, words: str
) -> None:
    with pytest.raises(ChannelRefused, match=words):
        check_mail_payment(method, number, received, today=TODAY)


def test_a_deposited_check_clears_the_next_banking_day() -> None:
    assert mail_clears_on(date(2027, 1, 22)) == date(2027, 1, 25)  # Friday → Monday
    assert mail_clears_on(date(2027, 1, 15)) == date(2027, 1, 19)  # Friday → Tuesday after MLK Day


def test_closed_enrollments_get_a_plain_reason() -> None:
    assert "cancelled" in closed_enrollment_reason("cancelled_no_binder")
    assert "ended" in closed_enrollment_reason("terminated")
