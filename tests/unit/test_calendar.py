"""Coverage calendar: due dates (R1.1, R1.2), binder due dates (D2, R1.11) and month arithmetic."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from premiums_coverage.domain.calendar import (
    add_months,
    binder_due_date,
    last_day_of_month,
    month_key,
    month_start,
    monthly_due_date,
)


def test_r1_1_may_2026_coverage_is_due_april_23_2026() -> None:
    assert monthly_due_date(date(2026, 5, 1)) == date(2026, 4, 23)


def test_r1_1_any_day_of_the_coverage_month_gives_the_same_due_date() -> None:
    assert monthly_due_date(date(2026, 5, 31)) == date(2026, 4, 23)


def test_r1_1_january_2027_coverage_is_due_december_23_2026_of_the_previous_year() -> None:
    assert monthly_due_date(date(2027, 1, 1)) == date(2026, 12, 23)


def test_r1_2_no_weekend_shift_when_the_23rd_is_a_sunday_august_23_2026() -> None:
    """R1.2: September 2026 coverage is due Sunday August 23 2026, not moved to Monday the 24th."""
    due = monthly_due_date(date(2026, 9, 1))
    assert due == date(2026, 8, 23)
    assert due.weekday() == 6


def test_r1_2_no_shift_when_the_23rd_is_a_saturday_may_23_2026() -> None:
    due = monthly_due_date(date(2026, 6, 1))
    assert due == date(2026, 5, 23)
    assert due.weekday() == 5


def test_d2_binder_for_february_2026_start_defaults_to_january_23_2026() -> None:
    assert binder_due_date(date(2026, 2, 1)) == date(2026, 1, 23)


def test_r1_11_february_2017_extension_moves_the_binder_to_february_10_2017() -> None:
    """R1.11: in Feb 2017 members starting Feb 1 got until Feb 10 instead of Jan 23."""
    assert binder_due_date(date(2017, 2, 1)) == date(2017, 1, 23)
    assert binder_due_date(date(2017, 2, 1), override=date(2017, 2, 10)) == date(2017, 2, 10)


def test_d2_an_explicit_none_override_keeps_the_default() -> None:
    assert binder_due_date(date(2017, 2, 1), override=None) == date(2017, 1, 23)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2027, 1, 15), -1, date(2026, 12, 15)),
        (date(2026, 8, 31), -6, date(2026, 2, 28)),
        (date(2026, 4, 23), 12, date(2027, 4, 23)),
        (date(2026, 4, 23), 0, date(2026, 4, 23)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(-600, 600))
def test_add_months_then_back_returns_to_the_same_month(day: date, months: int) -> None:
    there = add_months(day, months)
    back = add_months(there, -months)
    assert (back.year, back.month) == (day.year, day.month)
    assert back.day <= day.day
    assert there.day == min(day.day, last_day_of_month(there).day)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 10), date(2026, 2, 28)),
        (date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        (date(2000, 2, 1), date(2000, 2, 29)),  # divisible by 400: leap
        (date(2100, 2, 1), date(2100, 2, 28)),  # divisible by 100: not leap
        (date(2026, 4, 30), date(2026, 4, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_last_day_of_month_including_leap_years(day: date, expected: date) -> None:
    assert last_day_of_month(day) == expected


def test_month_key_of_may_23_2026_is_2026_05_and_starts_may_1() -> None:
    assert month_key(date(2026, 5, 23)) == "2026-05"
    assert month_start("2026-05") == date(2026, 5, 1)


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_month_key_and_month_start_round_trip(day: date) -> None:
    key = month_key(day)
    assert month_start(key) == day.replace(day=1)
    assert month_key(month_start(key)) == key
