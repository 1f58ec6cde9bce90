"""Delinquency, grace ladders and termination for non-payment (R2.1–R2.9, R2.7, R2.8, D5, D6, N6–N8).

The ladder is anchored on the first unpaid month M. The account is delinquent from the day after M's due
date (the 23rd of the month before, R1.1). Notices follow MAHC's worked example (R2.7): each goes out
early in a month, with that month's bill, and gives the next 23rd as its pay-by date; missing the last
pay-by date ends coverage:

- unsubsidized health and all dental (R2.8): one Past Due Warning on M's 1st (pay by M's 23rd), then
  termination back to the last day of the last month paid in full (the day before M);
- APTC and ConnectorCare (R2.7): Past Due Warning on M's 1st, Termination Warning 1 on M+1's 1st,
  Termination Warning 2 on M+2's 1st, then termination back to the last day of M (R2.3).

Never a termination without its warnings: every notice of the ladder is sent, one at a time, and each
gives at least NOTICE_LEAD_DAYS to pay. When an account falls behind late (a payment returned after its
month's notices were due, D7), the next notice goes out at once with the first 23rd that leaves that
much time, and the later notices follow on the 1st after each missed pay-by date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from premiums_coverage.domain.calendar import (
    DUE_DAY,
    add_months,
    first_of_month,
    last_day_of_month,
    month_key,
    month_start,
)
from premiums_coverage.domain.ledger import Charge

Notice = Literal["past_due_warning", "termination_warning_1", "termination_warning_2"]
APTC_NOTICES: tuple[Notice, ...] = ("past_due_warning", "termination_warning_1", "termination_warning_2")
FINAL_NOTICE_LEAD_DAYS = 35
REINSTATEMENT_WINDOW_DAYS = 35
NOTICE_LEAD_DAYS = 14
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Warning:
    notice: Notice
    sent_on: date
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


def pay_by_for(notice_on: date) -> date:
    """The pay-by date a notice sent on `notice_on` gives: the first 23rd at least NOTICE_LEAD_DAYS later.

    A notice sent on a 1st (the bill day) gives that month's 23rd, as in MAHC's example (R2.7)."""
    earliest = notice_on + timedelta(days=NOTICE_LEAD_DAYS)
    candidate = earliest.replace(day=DUE_DAY)
    return candidate if candidate >= earliest else add_months(candidate, 1)


def months_due(first_unpaid: date, pay_by: date) -> tuple[str, ...]:
    """What a notice asks for: every month from M through the one whose premium is due on `pay_by`."""
    last = add_months(first_of_month(pay_by), 1)
    months, month = [], first_of_month(first_unpaid)
    while month <= last:
        months.append(month_key(month))
        month = add_months(month, 1)
    return tuple(months)


def warning_on(notice: Notice, first_unpaid: date, sent_on: date) -> Warning:
    pay_by = pay_by_for(sent_on)
    return Warning(notice, sent_on, pay_by, months_due(first_unpaid, pay_by))


def grace_ladder(subsidy: str, product: str, first_unpaid_month: date) -> GraceLadder:
    """R2.7 (APTC/ConnectorCare) and R2.8 (unsubsidized, dental): the scheduled notices and end date for M."""
    m = first_unpaid_month.replace(day=1)
    if not has_grace_ladder(subsidy, product):
        return GraceLadder(m, (warning_on("past_due_warning", m, m),), m - timedelta(days=1), "non_payment")
    warnings = tuple(warning_on(n, m, add_months(m, i)) for i, n in enumerate(APTC_NOTICES))
    return GraceLadder(m, warnings, last_day_of_month(m), "non_payment_after_grace")


def termination_deadline(final_pay_by: date, second_notice_on: date | None) -> date:
    """R2.7 [S11]: the final payment date is at least 35 days after the second delinquency notice.

    On the schedule the second notice (Termination Warning 1, on a 1st) precedes the final deadline (the
    23rd of the next month) by 50 days or more; a notice sent late pushes the deadline.
    """
    if second_notice_on is None:
        return final_pay_by
    return max(final_pay_by, second_notice_on + timedelta(days=FINAL_NOTICE_LEAD_DAYS))


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
class SentNotice:
    """A delinquency notice already sent: its ladder (first unpaid month), step (1 = Past Due Warning),
    day and pay-by date. The history is kept per month, so a ladder survives a cure that a returned
    payment later undoes (D7: recomputed as if the payment never happened)."""

    ladder_month: str
    level: int
    sent_on: date
    pay_by: date


@dataclass(frozen=True)
class Account:
    """What the delinquency rules need to know about one enrollment."""

    status: str
    subsidy: str
    product: str
    charges: list[Charge]
    received: Decimal
    notices: tuple[SentNotice, ...] = ()


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


def next_notice_due(ladder: GraceLadder, sent: tuple[SentNotice, ...], today: date) -> bool:
    """The first notice goes out on M's 1st (at once when the account fell behind later); each later one on
    the 1st after the previous pay-by date has passed (R2.7)."""
    if not sent:
        return today >= ladder.first_unpaid_month
    return today >= add_months(first_of_month(sent[-1].pay_by), 1)


def assess(account: Account, today: date, threshold_percent: int | None = None) -> Assessment:
    """R2.7/R2.8/R2.4: where an active or delinquent account stands on `today`, and the one step to take.

    - no unpaid month whose due date has passed: active (a delinquent account that paid is cured, R2.4);
    - otherwise delinquent on the ladder of its first unpaid month M, resumed where its notices stopped;
    - the next notice of the ladder, once it is due, and only one notice a day;
    - past the last notice's pay-by date (and 35 days after the second notice, R2.7), coverage ends.
    """
    unpaid = first_unpaid_month(account.charges, account.received, threshold_percent)
    if unpaid is None or unpaid > last_month_due_by(today):
        return Assessment("active")
    ladder = grace_ladder(account.subsidy, account.product, month_start(unpaid))
    sent = tuple(sorted((n for n in account.notices if n.ladder_month == unpaid), key=lambda n: n.level))
    level = sent[-1].level if sent else 0
    if level >= len(ladder.warnings):
        second = next((n.sent_on for n in sent if n.level == 2), None)
        if today > termination_deadline(sent[-1].pay_by, second):
            return Assessment("terminated", ladder, None, level, terminate=True)
        return Assessment("delinquent", ladder, None, level)
    if next_notice_due(ladder, sent, today):
        warning = warning_on(ladder.warnings[level].notice, ladder.first_unpaid_month, today)
        return Assessment("delinquent", ladder, warning, level + 1)
    return Assessment("delinquent", ladder, None, level)


def review_due(ladder_month: str | None, notice_level: int, notice_pay_by: date | None, today: date) -> bool:
    """Whether the daily job must assess a delinquent account today, from its saved standing alone.

    While its money stays as it is, a delinquent account moves only when its next notice falls due (the
    first on M's 1st, each later one on the 1st after the previous pay-by date, `next_notice_due`) or its
    last pay-by date passes (termination, never before it, `termination_deadline`). Money that moves (a
    payment, a return) and months repriced by a premium change are assessed when they happen, by their
    handlers, and a new month's charge never changes the first unpaid month. So the days in between can be
    skipped: an account that fell behind on the 24th is next looked at on the 1st, not on each of the seven
    days between. A standing the job did not write (no ladder month) is always assessed.

    The daily query applies the same rule in SQL (`repository.accounts_to_assess`).
    """
    if ladder_month is None:
        return True
    if notice_level == 0:
        return month_key(today) >= ladder_month
    return notice_pay_by is None or today > notice_pay_by


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
