"""Banking days (R5.8): no settlement on weekends or Federal Reserve holidays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from premiums_common.banking_days import federal_reserve_holidays, is_banking_day, next_banking_day

FED_2026 = {
    date(2026, 1, 1),  # New Year's Day, Thursday
    date(2026, 1, 19),  # Martin Luther King Jr. Day
    date(2026, 2, 16),  # Washington's Birthday
    date(2026, 5, 25),  # Memorial Day
    date(2026, 6, 19),  # Juneteenth, Friday
    # July 4 2026 is a Saturday: the Fed does not move it to Friday July 3
    date(2026, 9, 7),  # Labor Day
    date(2026, 10, 12),  # Columbus Day
    date(2026, 11, 11),  # Veterans Day, Wednesday
    date(2026, 11, 26),  # Thanksgiving
    date(2026, 12, 25),  # Christmas, Friday
}

FED_2027 = {
    date(2027, 1, 1),  # New Year's Day, Friday
    date(2027, 1, 18),  # Martin Luther King Jr. Day
    date(2027, 2, 15),  # Washington's Birthday
    date(2027, 5, 31),  # Memorial Day
    # June 19 2027 is a Saturday: not observed
    date(2027, 7, 5),  # July 4 2027 is a Sunday: observed Monday July 5
    date(2027, 9, 6),  # Labor Day
    date(2027, 10, 11),  # Columbus Day
    date(2027, 11, 11),  # Veterans Day, Thursday
    date(2027, 11, 25),  # Thanksgiving
    # December 25 2027 is a Saturday: not observed
}


def _weekday_holidays(year: int) -> set[date]:
    """The holidays that close the Fed on a weekday (a Saturday holiday may be listed, but is never moved)."""
    return {d for d in federal_reserve_holidays(year) if d.weekday() < 5}


def test_r5_8_federal_reserve_holidays_of_2026() -> None:
    assert _weekday_holidays(2026) == FED_2026
    assert date(2026, 7, 3) not in federal_reserve_holidays(2026)  # Saturday July 4 not moved to Friday


def test_r5_8_federal_reserve_holidays_of_2027() -> None:
    assert _weekday_holidays(2027) == FED_2027
    assert date(2027, 6, 18) not in federal_reserve_holidays(2027)  # Saturday June 19 not moved to Friday
    assert date(2027, 12, 24) not in federal_reserve_holidays(2027)  # Saturday Christmas not moved to Friday


@pytest.mark.parametrize("day", sorted(FED_2026 | FED_2027))
def test_r5_8_no_settlement_on_a_fed_holiday(day: date) -> None:
    assert day.weekday() < 5
    assert not is_banking_day(day)


@pytest.mark.parametrize(
    "day", [date(2026, 7, 3), date(2026, 7, 6), date(2027, 6, 18), date(2027, 12, 24), date(2027, 12, 27)]
)
def test_r5_8_the_weekday_next_to_a_saturday_holiday_is_a_banking_day(day: date) -> None:
    assert is_banking_day(day)


def test_r5_8_saturday_july_4_2026_and_sunday_july_4_2027_are_not_banking_days() -> None:
    assert not is_banking_day(date(2026, 7, 4))
    assert not is_banking_day(date(2027, 7, 4))


@pytest.mark.parametrize(
    ("accepted", "settles"),
    [
        (date(2026, 11, 27), date(2026, 11, 30)),  # Friday after Thanksgiving -> Monday
        (date(2026, 11, 25), date(2026, 11, 27)),  # Wednesday -> Friday, skipping Thanksgiving Nov 26
        (date(2026, 4, 22), date(2026, 4, 23)),  # an ordinary Wednesday -> Thursday
        (date(2026, 5, 22), date(2026, 5, 26)),  # Friday before Memorial Day -> Tuesday
        (date(2026, 5, 23), date(2026, 5, 26)),  # Saturday -> Tuesday
        (date(2026, 12, 31), date(2027, 1, 4)),  # Thursday -> Monday, skipping New Year's Day 2027
        (date(2027, 7, 2), date(2027, 7, 6)),  # Friday -> Tuesday, skipping observed July 5
        (date(2027, 12, 23), date(2027, 12, 24)),  # Christmas 2027 is a Saturday: Friday 24 is open
    ],
)
def test_r5_8_next_banking_day(accepted: date, settles: date) -> None:
    assert next_banking_day(accepted) == settles


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_r5_8_next_banking_day_is_a_later_weekday_at_most_five_days_on(day: date) -> None:
    settles = next_banking_day(day)
    assert settles.weekday() < 5
    assert day < settles <= day + timedelta(days=5)
    assert is_banking_day(settles)
    between = [day + timedelta(days=n) for n in range(1, (settles - day).days)]
    assert not any(is_banking_day(d) for d in between)
