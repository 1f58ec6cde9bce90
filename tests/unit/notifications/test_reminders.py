"""D13 / N5: the reminder schedule as a pure function of the business date."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from premiums_notifications.domain.reminders import (
    OpenBill,
    bills_to_remind,
    days_before_due,
    due_dates_reminded_on,
    reminder_dates,
)


def _bill(due: date, binder: bool, enrollment: str = "RefID1") -> OpenBill:
    return OpenBill("100000000001", enrollment, "2027-02", due, "312.40", binder)


def test_d13_a_binder_due_january_23_2027_is_reminded_january_8_18_and_22() -> None:
    assert reminder_dates(date(2027, 1, 23), binder=True) == [date(2027, 1, 8), date(2027, 1, 18), date(2027, 1, 22)]


def test_d13_a_monthly_bill_due_february_23_2027_is_reminded_february_18_and_22_only() -> None:
    assert reminder_dates(date(2027, 2, 23), binder=False) == [date(2027, 2, 18), date(2027, 2, 22)]
    assert days_before_due(date(2027, 2, 8), date(2027, 2, 23), binder=False) is None


def test_d13_no_reminder_on_or_after_the_due_date() -> None:
    assert days_before_due(date(2027, 1, 23), date(2027, 1, 23), binder=True) is None
    assert days_before_due(date(2027, 1, 24), date(2027, 1, 23), binder=True) is None


def test_d13_on_january_18_the_binder_due_the_23rd_is_reminded_with_5_days_and_a_monthly_bill_due_the_19th_with_1() -> (
    None
):
    today = date(2027, 1, 18)
    bills = [
        _bill(date(2027, 1, 23), True, "a"),
        _bill(date(2027, 1, 19), False, "b"),
        _bill(date(2027, 2, 2), False, "c"),
        _bill(date(2027, 2, 2), True, "d"),
    ]
    assert [(b.enrollment_id, d) for b, d in bills_to_remind(today, bills)] == [("a", 5), ("b", 1), ("d", 15)]


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), st.booleans())
def test_d13_every_reminder_date_is_found_by_the_daily_query_and_reminds_exactly_once(due: date, binder: bool) -> None:
    for day in reminder_dates(due, binder):
        assert due in due_dates_reminded_on(day)
        assert len(bills_to_remind(day, [_bill(due, binder)])) == 1
    window = sorted(due - timedelta(days=n) for n in range(0, 30))
    reminded = [day for day in window if bills_to_remind(day, [_bill(due, binder)])]
    assert reminded == reminder_dates(due, binder)
