"""Due-date reminders (N5, D13): which bills get a reminder on a business date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

BINDER_DAYS_BEFORE = (15, 5, 1)
MONTHLY_DAYS_BEFORE = (5, 1)


@dataclass(frozen=True)
class OpenBill:
    """A bill not paid yet for a member not on AutoPay (the repository finds these in one query)."""

    member_id: str
    enrollment_id: str
    coverage_month: str
    due_date: date
    total_due: str
    binder: bool


def reminder_days(binder: bool) -> tuple[int, ...]:
    """D13: binder 15, 5 and 1 days before its due date; a monthly bill 5 and 1 days before the 23rd."""
    return BINDER_DAYS_BEFORE if binder else MONTHLY_DAYS_BEFORE


def days_before_due(today: date, due_date: date, binder: bool) -> int | None:
    """How many days before its due date `today` is, if that is a reminder day for this bill (D13)."""
    days = (due_date - today).days
    return days if days in reminder_days(binder) else None


def reminder_dates(due_date: date, binder: bool) -> list[date]:
    """Every business date on which a reminder for this bill is due (D13), earliest first."""
    return sorted(date.fromordinal(due_date.toordinal() - d) for d in reminder_days(binder))


def due_dates_reminded_on(today: date) -> list[date]:
    """The due dates any bill can have for a reminder to be due `today`: what the daily query looks for."""
    return sorted({date.fromordinal(today.toordinal() + d) for d in BINDER_DAYS_BEFORE + MONTHLY_DAYS_BEFORE})


def bills_to_remind(today: date, bills: list[OpenBill]) -> list[tuple[OpenBill, int]]:
    """The open bills that get a reminder `today`, with how many days before the due date it is (D13, N5).

    The bills are already limited to unpaid months of members not on AutoPay; paid months never remind.
    """
    due = ((bill, days_before_due(today, bill.due_date, bill.binder)) for bill in bills)
    return [(bill, days) for bill, days in due if days is not None]
