"""Reinstatement after termination for non-payment (R2.10, D8) and the late-binder policy (R1.10, D3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from premiums_coverage.domain.calendar import add_months, month_key


@dataclass(frozen=True)
class ReinstatementQuote:
    months: tuple[str, ...]
    amount_required: Decimal


def months_to_restore(end_date: date, today: date) -> tuple[str, ...]:
    """R2.10: the months after the end date up to and including next month (paid in advance).

    MLRI example: terminated back to Apr 30, asking in July: May + Jun + Jul are restored (April is
    already owed on the ledger).
    """
    first = add_months(end_date.replace(day=1), 1)
    last = add_months(today.replace(day=1), 1)
    months: list[str] = []
    while first <= last:
        months.append(month_key(first))
        first = add_months(first, 1)
    return tuple(months)


def reinstatement_quote(
    end_date: date, today: date, monthly_premium: Decimal, outstanding: Decimal
) -> ReinstatementQuote:
    """R2.10/D8: the full balance due plus every month up to and including the next one."""
    months = months_to_restore(end_date, today)
    return ReinstatementQuote(months, max(outstanding, Decimal(0)) + monthly_premium * len(months))


def still_to_pay(outstanding: Decimal, quote: ReinstatementQuote, monthly_premium: Decimal) -> Decimal:
    """R2.10: what is left to pay for a reinstatement once a credit on the account is counted."""
    return max(outstanding + monthly_premium * len(quote.months), Decimal("0.00"))


def within_window(day: date, reinstate_by: date | None) -> bool:
    """R2.10: inside the 35 days after the termination notice."""
    return reinstate_by is not None and day <= reinstate_by


def rolled_forward_start(coverage_start: date, coverage_end: date) -> date | None:
    """D3 `late_binder=roll_forward`: the start moves to the next month; None once the period has no month left."""
    start = add_months(coverage_start.replace(day=1), 1)
    return start if start <= coverage_end else None
