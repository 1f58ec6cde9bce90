"""The premium ledger of one enrollment: charges per month, money received, and what it pays (D6, R2.12).

Payments count from the moment they are accepted (D1); they are allocated to the oldest open month
first, and a month is paid only when paid in full (R2.9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from premiums_coverage.domain.calendar import last_day_of_month, month_start

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Charge:
    coverage_month: str
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    months_paid: tuple[str, ...]
    credit: Decimal
    open_months: tuple[str, ...]

    @property
    def paid_through(self) -> date | None:
        """The last day of the last month paid in full, counting only an unbroken run from the first month."""
        if not self.months_paid:
            return None
        return last_day_of_month(month_start(self.months_paid[-1]))


def allocate(charges: list[Charge], received: Decimal) -> Allocation:
    """Allocate `received` to the charges, oldest month first; what is left over is a credit (D6)."""
    remaining = received
    paid: list[str] = []
    open_: list[str] = []
    for charge in sorted(charges, key=lambda c: c.coverage_month):
        if not open_ and remaining >= charge.amount:
            remaining -= charge.amount
            paid.append(charge.coverage_month)
        else:
            open_.append(charge.coverage_month)
    credit = remaining if not open_ else ZERO
    return Allocation(tuple(paid), credit, tuple(open_))


def balance(charges: list[Charge], received: Decimal) -> Decimal:
    """Positive: the member owes this much. Negative: a credit."""
    return sum((c.amount for c in charges), ZERO) - received
