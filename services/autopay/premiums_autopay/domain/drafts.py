"""When AutoPay drafts and how much (D9, R4.3, R4.4, R4.6, N12)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

DEFAULT_DRAFT_DAY = 22
VARYING_AMOUNT_NOTICE_DAYS = 10
ZERO = Decimal("0.00")


def draft_amount(total_due: Decimal, paid: Decimal) -> Decimal:
    """R4.4: the amount due on the bill (past due included) less what was paid, never more than billed."""
    return max(ZERO, min(total_due, total_due - paid))


def draft_date(due_date: date, draft_day: int = DEFAULT_DRAFT_DAY) -> date:
    """D9/R4.3: the draft day of the due date's month, never after the due date (so it counts as on time)."""
    return min(due_date.replace(day=draft_day), due_date)


def amount_changed(amount: Decimal, previous: Decimal | None) -> bool:
    """N12: a draft that differs from the previous draft needs a notice of varying amount (the first does not)."""
    return previous is not None and amount != previous


def draft_date_after_notice(planned: date, noticed_on: date, changed: bool) -> date:
    """N12 / Reg E 1005.10(d): a changed amount is announced at least 10 days before it is drafted.

    A bill on the 1st leaves 21 days before the 22nd; a late bill with a new amount pushes the draft back
    rather than debit an amount the member was not told about in time.
    """
    earliest = noticed_on + timedelta(days=VARYING_AMOUNT_NOTICE_DAYS)
    return max(planned, earliest) if changed else planned


def binder_draft_date(today: date) -> date:
    """R4.6: AutoPay set up while the binder is pending drafts promptly, on the next business date."""
    return today + timedelta(days=1)


def first_draft_date(planned: date | None, today: date) -> date:
    """A mandate set up after its bill's draft day has passed is drafted by the next daily run (tomorrow)."""
    return planned if planned is not None and planned > today else today + timedelta(days=1)
