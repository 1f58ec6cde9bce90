"""Delinquency, grace ladders and termination for non-payment (R2.1–R2.9, R2.7, R2.8, D5, D6, N6–N8).

The ladder is anchored on the first unpaid month M. Every warning is sent once the previous deadline
has passed (the first one once M's own due date, the 23rd of the month before, has passed) and gives a
new pay-by date, the next 23rd. Missing the last pay-by date ends coverage:

- unsubsidized health and all dental (R2.8): one Past Due Warning, then termination back to the last day
  of the last month paid in full (the day before M);
- APTC and ConnectorCare (R2.7): Past Due Warning, Termination Warning 1, Termination Warning 2, then
  termination back to the last day of M (the first month of the grace period, R2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from premiums_coverage.domain.calendar import (
    add_months,
    last_day_of_month,
    month_key,
    month_start,
    monthly_due_date,
)
from premiums_coverage.domain.ledger import Charge

Notice = Literal["past_due_warning", "termination_warning_1", "termination_warning_2"]
APTC_NOTICES: tuple[Notice, ...] = ("past_due_warning", "termination_warning_1", "termination_warning_2")
FINAL_NOTICE_LEAD_DAYS = 35
REINSTATEMENT_WINDOW_DAYS = 35
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Warning:
    notice: Notice
    sent_after: date
    pay_by: date
    months_due: tuple[str, ...]


@dataclass(frozen=True)
class GraceLadder:
    first_unpaid_month: date
    warnings: tuple[Warning, ...]
    end_date: date
    reason: str

    @property
    def final_pay_by(self) -> date:
        return self.warnings[-1].pay_by


def has_grace_ladder(subsidy: str, product: str) -> bool:
    """R2.7/R2.8: only APTC and ConnectorCare health plans get the 3-month ladder; dental never does."""
    return product == "health" and subsidy in ("aptc", "connectorcare")


def grace_ladder(subsidy: str, product: str, first_unpaid_month: date) -> GraceLadder:
    """R2.7 (APTC/ConnectorCare) and R2.8 (unsubsidized, dental): the notices and the end date for month M."""
    m = first_unpaid_month.replace(day=1)

    def warning(notice: Notice, step: int) -> Warning:
        months = tuple(month_key(add_months(m, i)) for i in range(step + 2))
        return Warning(notice, monthly_due_date(add_months(m, step)), monthly_due_date(add_months(m, step + 1)), months)

    if not has_grace_ladder(subsidy, product):
        return GraceLadder(m, (warning("past_due_warning", 0),), m - timedelta(days=1), "non_payment")
    return GraceLadder(
        m, tuple(warning(n, i) for i, n in enumerate(APTC_NOTICES)), last_day_of_month(m), "non_payment_after_grace"
    )


def termination_deadline(ladder: GraceLadder, second_notice_on: date | None) -> date:
    """R2.7 [S11]: the final payment date is at least 35 days after the second delinquency notice.

    On the 23rd-of-month schedule the second notice (Termination Warning 1, sent after the first missed
    pay-by date) precedes the final deadline by 56 days or more; a notice sent late pushes the deadline.
    """
    if second_notice_on is None or len(ladder.warnings) < 2:
        return ladder.final_pay_by
    return max(ladder.final_pay_by, second_notice_on + timedelta(days=FINAL_NOTICE_LEAD_DAYS))


def lead_time_ok(notice_on: date, deadline: date) -> bool:
    """R2.7: a validation rule: a deadline gives the member at least 35 days from the notice."""
    return (deadline - notice_on).days >= FINAL_NOTICE_LEAD_DAYS


def reinstatement_deadline(termination_notice_on: date) -> date:
    """R2.10/D8: reinstatement must be requested and paid within 35 days of the termination notice."""
    return termination_notice_on + timedelta(days=REINSTATEMENT_WINDOW_DAYS)


def first_unpaid_month(charges: list[Charge], received: Decimal, threshold_percent: int | None = None) -> str | None:
    """D6/R2.12: money pays the oldest month first; the first month it does not pay in full is unpaid.

    D5/R2.14: with a net-percent threshold, a month counts as paid once the money received reaches that
    percentage of everything charged up to and including it; the shortfall is still owed (balance).
    """
    percent = threshold_percent if threshold_percent is not None else 100
    cumulative = Decimal("0.00")
    for charge in sorted(charges, key=lambda c: c.coverage_month):
        cumulative += charge.amount
        if received < (cumulative * percent / 100).quantize(CENT):
            return charge.coverage_month
    return None


def last_month_due_by(today: date) -> str:
    """The latest coverage month whose due date (the 23rd of the month before, R1.1) is before `today`."""
    return month_key(add_months(today.replace(day=1), 1 if today.day > 23 else 0))


@dataclass(frozen=True)
class Account:
    """What the delinquency rules need to know about one enrollment."""

    status: str
    subsidy: str
    product: str
    charges: list[Charge]
    received: Decimal
    ladder_month: str | None
    notice_level: int
    second_notice_on: date | None


@dataclass(frozen=True)
class Assessment:
    status: str
    ladder: GraceLadder | None = None
    warning: Warning | None = None
    notice_level: int = 0
    terminate: bool = False

    @property
    def cured(self) -> bool:
        return self.status == "active" and self.ladder is None


def assess(account: Account, today: date, threshold_percent: int | None = None) -> Assessment:
    """R2.7/R2.8/R2.4: where an active or delinquent account stands on `today`, and the one step to take.

    - no unpaid month whose due date has passed: active (a delinquent account that paid is cured, R2.4);
    - otherwise delinquent on the ladder of its first unpaid month M (a new M restarts the ladder);
    - the warning whose trigger has passed and that was not sent yet is sent (only the latest one);
    - past the termination deadline, and once at least one warning was sent, coverage ends.
    """
    unpaid = first_unpaid_month(account.charges, account.received, threshold_percent)
    if unpaid is None or unpaid > last_month_due_by(today):
        return Assessment("active")
    ladder = grace_ladder(account.subsidy, account.product, month_start(unpaid))
    sent = account.notice_level if account.ladder_month == unpaid else 0
    second = account.second_notice_on if account.ladder_month == unpaid else None
    if sent >= 1 and today > termination_deadline(ladder, second):
        return Assessment("terminated", ladder, None, sent, terminate=True)
    due = max(i for i, w in enumerate(ladder.warnings) if today > w.sent_after)
    if due >= sent:
        return Assessment("delinquent", ladder, ladder.warnings[due], due + 1)
    return Assessment("delinquent", ladder, None, sent)


def paid_through(charges: list[Charge], received: Decimal, threshold_percent: int | None = None) -> date | None:
    """The last day of the last month paid (D6): the day before the first unpaid month, else the last charge."""
    unpaid = first_unpaid_month(charges, received, threshold_percent)
    if unpaid is not None:
        return month_start(unpaid) - timedelta(days=1)
    if charges:
        return last_day_of_month(month_start(max(c.coverage_month for c in charges)))
    return None


def amount_past_due(charges: list[Charge], received: Decimal, today: date) -> Decimal:
    """What is owed on `today` for months whose due date has already passed (never negative)."""
    last = last_month_due_by(today)
    owed = sum((c.amount for c in charges if c.coverage_month <= last), Decimal("0.00")) - received
    return max(owed, Decimal("0.00"))
