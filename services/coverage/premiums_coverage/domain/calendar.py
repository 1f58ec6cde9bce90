"""Coverage months and their due dates (R1.1, R1.2, D2). Pure date arithmetic, America/New_York dates."""

from __future__ import annotations

import calendar
from datetime import date

DUE_DAY = 23


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def last_day_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_start(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def monthly_due_date(coverage_month: date) -> date:
    """R1.1/R1.2: a month's premium is due the 23rd of the month before, with no weekend shift."""
    return add_months(first_of_month(coverage_month), -1).replace(day=DUE_DAY)


def binder_due_date(coverage_start: date, override: date | None = None) -> date:
    """D2/R1.11: the binder is due the 23rd of the month before the start, unless the enrollment says otherwise."""
    return override if override is not None else monthly_due_date(coverage_start)
