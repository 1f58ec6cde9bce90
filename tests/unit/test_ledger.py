"""The premium ledger: oldest month first (D6, R2.12), paid in full only (R2.9), credits, paid-through."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from premiums_coverage.domain.ledger import ZERO, Charge, allocate, balance

JAN, FEB, MAR = "2026-01", "2026-02", "2026-03"
PREMIUM = Decimal("312.40")


def _three_months() -> list[Charge]:
    # deliberately out of order: allocation must sort oldest first
    return [Charge(MAR, PREMIUM), Charge(JAN, PREMIUM), Charge(FEB, PREMIUM)]


def test_d6_r2_12_a_payment_for_one_month_pays_january_2026_first() -> None:
    result = allocate(_three_months(), PREMIUM)
    assert result.months_paid == (JAN,)
    assert result.open_months == (FEB, MAR)
    assert result.credit == ZERO


def test_r2_9_partial_payment_of_300_against_312_40_leaves_january_2026_open() -> None:
    result = allocate(_three_months(), Decimal("300.00"))
    assert result.months_paid == ()
    assert result.open_months == (JAN, FEB, MAR)
    assert result.credit == ZERO
    assert result.paid_through is None


def test_d6_payment_covering_january_and_part_of_february_2026_pays_january_only() -> None:
    result = allocate(_three_months(), Decimal("500.00"))
    assert result.months_paid == (JAN,)
    assert result.open_months == (FEB, MAR)
    assert result.credit == ZERO, "money short of a full month is not a credit while months are open"


def test_d6_a_later_month_is_not_paid_while_an_older_month_is_open() -> None:
    """Even if the remainder would pay a cheaper later month, the oldest open month blocks it (R2.12)."""
    charges = [Charge(JAN, Decimal("400.00")), Charge(FEB, Decimal("100.00"))]
    result = allocate(charges, Decimal("150.00"))
    assert result.months_paid == ()
    assert result.open_months == (JAN, FEB)


def test_d6_overpayment_of_1000_on_three_months_becomes_a_credit_of_62_80() -> None:
    result = allocate(_three_months(), Decimal("1000.00"))
    assert result.months_paid == (JAN, FEB, MAR)
    assert result.open_months == ()
    assert result.credit == Decimal("62.80")


def test_d6_exact_payment_of_every_month_leaves_no_credit() -> None:
    result = allocate(_three_months(), Decimal("937.20"))
    assert result.months_paid == (JAN, FEB, MAR)
    assert result.credit == ZERO


def test_paid_through_is_february_28_2026_when_january_and_february_are_paid() -> None:
    assert allocate(_three_months(), Decimal("700.00")).paid_through == date(2026, 2, 28)


def test_paid_through_is_february_29_2028_in_a_leap_year() -> None:
    charges = [Charge("2028-01", PREMIUM), Charge("2028-02", PREMIUM)]
    assert allocate(charges, PREMIUM * 2).paid_through == date(2028, 2, 29)


def test_paid_through_is_december_31_2026_across_the_year_end() -> None:
    charges = [Charge("2027-01", PREMIUM), Charge("2026-12", PREMIUM)]
    result = allocate(charges, PREMIUM)
    assert result.months_paid == ("2026-12",)
    assert result.paid_through == date(2026, 12, 31)


def test_no_charges_at_all_makes_every_dollar_a_credit() -> None:
    result = allocate([], Decimal("50.00"))
    assert result.months_paid == ()
    assert result.credit == Decimal("50.00")
    assert result.paid_through is None


def test_balance_owed_after_paying_one_of_three_months() -> None:
    assert balance(_three_months(), PREMIUM) == Decimal("624.80")


def test_balance_is_negative_when_the_member_has_a_credit() -> None:
    assert balance(_three_months(), Decimal("1000.00")) == Decimal("-62.80")


def test_balance_with_nothing_billed_and_nothing_received_is_zero() -> None:
    assert balance([], ZERO) == ZERO


_cents = st.integers(min_value=0, max_value=200_000).map(lambda c: Decimal(c) / 100)
_charges = st.lists(
    st.tuples(st.integers(2024, 2030), st.integers(1, 12), st.integers(1, 100_000)),
    max_size=8,
    unique_by=lambda t: (t[0], t[1]),
).map(lambda rows: [Charge(f"{y:04d}-{m:02d}", Decimal(c) / 100) for y, m, c in rows])


@given(_charges, _cents)
def test_money_is_conserved_and_never_over_allocated(charges: list[Charge], received: Decimal) -> None:
    """D6: paid charges + credit <= received, and paid + credit + unallocated remainder == received."""
    result = allocate(charges, received)
    by_month = {c.coverage_month: c.amount for c in charges}
    paid = sum((by_month[m] for m in result.months_paid), ZERO)
    remainder = received - paid - result.credit
    assert paid + result.credit <= received
    assert paid + result.credit + remainder == received
    assert remainder >= 0
    assert result.credit >= 0
    if result.open_months:
        # R2.9: what is left is a partial payment, smaller than the oldest open month
        assert result.credit == ZERO
        assert remainder < by_month[result.open_months[0]]
    else:
        assert remainder == ZERO
    # every month is either paid or open, oldest first, and the paid months are an unbroken run
    assert sorted(result.months_paid + result.open_months) == sorted(by_month)
    assert list(result.months_paid + result.open_months) == sorted(by_month)
    assert balance(charges, received) == sum(by_month.values(), ZERO) - received
