"""Binder effectuation: $0 premiums (D4), on-time binder (R1.3, R1.9), late binder (R1.10, D3), clearing (R5.17)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from premiums_coverage.domain.effectuation import (
    BinderPayment,
    activates_at_once,
    binder_cleared,
    binder_paid_on_time,
)

BINDER = Decimal("312.40")
DUE_JAN_23_2026 = date(2026, 1, 23)  # binder for a February 1 2026 start


@pytest.mark.parametrize("premium", [Decimal("0"), Decimal("0.00")])
def test_d4_zero_premium_enrollment_activates_at_plan_selection(premium: Decimal) -> None:
    assert activates_at_once(premium)


def test_d4_one_cent_premium_needs_a_binder() -> None:
    assert not activates_at_once(Decimal("0.01"))
    assert not activates_at_once(BINDER)


def test_r1_3_binder_paid_in_full_on_january_23_2026_counts() -> None:
    payments = [BinderPayment(BINDER, date(2026, 1, 23), cleared=False)]
    assert binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)


def test_r1_9_binder_paid_in_full_on_january_10_2026_counts() -> None:
    payments = [BinderPayment(BINDER, date(2026, 1, 10), cleared=True)]
    assert binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)


def test_r1_10_d3_binder_paid_january_24_2026_is_late_and_does_not_count() -> None:
    payments = [BinderPayment(BINDER, date(2026, 1, 24), cleared=True)]
    assert not binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)
    assert not binder_cleared(BINDER, DUE_JAN_23_2026, payments)


def test_r1_9_two_partial_payments_on_january_10_and_23_2026_adding_up_count() -> None:
    payments = [
        BinderPayment(Decimal("200.00"), date(2026, 1, 10), cleared=False),
        BinderPayment(Decimal("112.40"), date(2026, 1, 23), cleared=False),
    ]
    assert binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)


def test_r1_10_partial_on_time_plus_rest_on_january_24_2026_is_not_paid_in_full_on_time() -> None:
    payments = [
        BinderPayment(Decimal("200.00"), date(2026, 1, 10), cleared=True),
        BinderPayment(Decimal("112.40"), date(2026, 1, 24), cleared=True),
    ]
    assert not binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)


def test_r1_9_one_cent_short_on_january_23_2026_is_not_paid_in_full() -> None:
    payments = [BinderPayment(Decimal("312.39"), date(2026, 1, 23), cleared=True)]
    assert not binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)


def test_no_payments_means_no_binder() -> None:
    assert not binder_paid_on_time(BINDER, DUE_JAN_23_2026, [])


def test_r1_11_binder_paid_february_8_2017_counts_with_the_february_10_extension() -> None:
    payments = [BinderPayment(BINDER, date(2017, 2, 8), cleared=True)]
    assert not binder_paid_on_time(BINDER, date(2017, 1, 23), payments)
    assert binder_paid_on_time(BINDER, date(2017, 2, 10), payments)


def test_r5_17_binder_accepted_january_22_2026_but_not_yet_cleared_does_not_activate() -> None:
    payments = [BinderPayment(BINDER, date(2026, 1, 22), cleared=False)]
    assert binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)
    assert not binder_cleared(BINDER, DUE_JAN_23_2026, payments)


def test_r5_17_binder_accepted_january_22_2026_and_cleared_activates() -> None:
    payments = [BinderPayment(BINDER, date(2026, 1, 22), cleared=True)]
    assert binder_cleared(BINDER, DUE_JAN_23_2026, payments)


def test_r5_17_only_half_of_the_on_time_money_has_cleared() -> None:
    payments = [
        BinderPayment(Decimal("156.20"), date(2026, 1, 20), cleared=True),
        BinderPayment(Decimal("156.20"), date(2026, 1, 23), cleared=False),
    ]
    assert binder_paid_on_time(BINDER, DUE_JAN_23_2026, payments)
    assert not binder_cleared(BINDER, DUE_JAN_23_2026, payments)


def test_r5_17_d3_cleared_late_money_does_not_make_up_for_uncleared_on_time_money() -> None:
    payments = [
        BinderPayment(BINDER, date(2026, 1, 23), cleared=False),
        BinderPayment(BINDER, date(2026, 1, 25), cleared=True),
    ]
    assert not binder_cleared(BINDER, DUE_JAN_23_2026, payments)
