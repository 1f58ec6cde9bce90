"""The monthly bill (R1.4, D4, R1.6), reinstatement (R2.10, D8), late binders and returned binders (D3, D7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from premiums_coverage.domain.billing import bill_terms, is_billable, is_billing_day
from premiums_coverage.domain.effectuation import binder_return_cancels
from premiums_coverage.domain.reinstatement import (
    months_to_restore,
    reinstatement_quote,
    rolled_forward_start,
    still_to_pay,
    within_window,
)


def test_r1_4_the_bill_of_the_1st_is_for_next_month_due_the_23rd() -> None:
    assert is_billing_day(date(2026, 4, 1)) and not is_billing_day(date(2026, 4, 2))
    assert bill_terms(date(2026, 4, 1)) == ("2026-05", date(2026, 4, 23))
    assert bill_terms(date(2026, 12, 1)) == ("2027-01", date(2026, 12, 23))


def test_d4_no_bill_while_the_premium_is_zero() -> None:
    assert not is_billable(Decimal("0.00"), date(2026, 1, 1), date(2026, 12, 31), date(2026, 5, 1))
    assert is_billable(Decimal("10.00"), date(2026, 1, 1), date(2026, 12, 31), date(2026, 5, 1))


def test_r1_6_no_bill_beyond_december_31() -> None:
    assert not is_billable(Decimal("10.00"), date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1))


def test_r2_10_mlri_example_terminated_april_30_asking_in_july_restores_may_to_july() -> None:
    assert months_to_restore(date(2026, 4, 30), date(2026, 6, 28)) == ("2026-05", "2026-06", "2026-07")
    quote = reinstatement_quote(date(2026, 4, 30), date(2026, 6, 28), Decimal("50.00"), Decimal("50.00"))
    assert quote.amount_required == Decimal("200.00"), "April owed + May + June + July"


def test_r2_10_a_credit_on_the_account_reduces_what_is_left_to_pay() -> None:
    quote = reinstatement_quote(date(2026, 4, 30), date(2026, 5, 10), Decimal("50.00"), Decimal("-20.00"))
    assert quote.amount_required == Decimal("100.00")
    assert still_to_pay(Decimal("-20.00"), quote, Decimal("50.00")) == Decimal("80.00")


def test_r2_10_the_window_closes_after_its_35th_day() -> None:
    assert within_window(date(2026, 2, 28), date(2026, 2, 28))
    assert not within_window(date(2026, 3, 1), date(2026, 2, 28))
    assert not within_window(date(2026, 3, 1), None)


def test_d3_roll_forward_moves_the_start_a_month_until_the_period_ends() -> None:
    assert rolled_forward_start(date(2026, 2, 1), date(2026, 12, 31)) == date(2026, 3, 1)
    assert rolled_forward_start(date(2026, 12, 1), date(2026, 12, 31)) is None


def test_d7_a_returned_binder_cancels_even_after_activation() -> None:
    assert binder_return_cancels("active", date(2026, 1, 23), date(2026, 1, 10), still_paid_on_time=False)
    assert binder_return_cancels("pending_binder", date(2026, 1, 23), date(2026, 1, 24), still_paid_on_time=False)


def test_d7_r5_11_a_binder_returned_before_its_due_date_can_still_be_paid_again() -> None:
    assert not binder_return_cancels("pending_binder", date(2026, 1, 23), date(2026, 1, 20), still_paid_on_time=False)
    assert not binder_return_cancels("active", date(2026, 1, 23), date(2026, 1, 30), still_paid_on_time=True)
