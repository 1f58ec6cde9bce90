"""Banking days (R5.8): no settlement on weekends or Federal Reserve holidays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@cache
def federal_reserve_holidays(year: int) -> frozenset[date]:
    """The Fed's holidays; one falling on a Sunday is observed Monday, on a Saturday it is not moved."""
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    moving = [
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _last_weekday(year, 5, 0),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    ]
    observed = [d + timedelta(days=1) if d.weekday() == 6 else d for d in fixed]
    return frozenset(observed + moving)


def is_banking_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_reserve_holidays(day.year)


def next_banking_day(day: date) -> date:
    """The first banking day strictly after `day`: a debit accepted on `day` settles then (ARCHITECTURE §5)."""
    candidate = day + timedelta(days=1)
    while not is_banking_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def add_banking_days(day: date, days: int) -> date:
    """`days` banking days after `day` (weekends and Federal Reserve holidays skipped); 0 is `day` itself."""
    current = day
    for _ in range(days):
        current = next_banking_day(current)
    return current
