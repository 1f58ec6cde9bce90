"""Property-based tests of the date rules (R1.1, R1.2, R2.7, R2.8, R2.10, D7) over every month and leap year.

The last property replays random payment histories (late, partial, returned) day by day through `assess`,
keeping the ladder state the way the repository stores it, and checks that no account is ever terminated
without every notice of its ladder, each with time to pay.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from premiums_coverage.domain.calendar import add_months, binder_due_date, month_key, monthly_due_date
from premiums_coverage.domain.delinquency import (
    FINAL_NOTICE_LEAD_DAYS,
    NOTICE_LEAD_DAYS,
    Account,
    SentNotice,
    assess,
    grace_ladder,
    has_grace_ladder,
    lead_time_ok,
    pay_by_for,
    review_due,
    termination_deadline,
)
from premiums_coverage.domain.ledger import Charge
from premiums_coverage.standing import standing_after

months = st.builds(date, st.integers(1990, 2100), st.integers(1, 12), st.just(1))
subsidies = st.sampled_from(["none", "aptc", "connectorcare"])
products = st.sampled_from(["health", "dental"])
PREMIUM = Decimal("100.00")


@given(months, st.integers(1, 28))
def test_r1_1_r1_2_every_month_is_due_on_the_23rd_of_the_month_before_with_no_shift(month: date, day: int) -> None:
    due = monthly_due_date(month.replace(day=day))
    assert due.day == 23 and add_months(due.replace(day=1), 1) == month
    assert binder_due_date(month) == due, "D2: the binder defaults to the same date"


@given(st.integers(1990, 2100))
def test_r1_1_march_is_due_february_23_in_leap_and_common_years(year: int) -> None:
    assert monthly_due_date(date(year, 3, 1)) == date(year, 2, 23)
    february_ends = add_months(date(year, 1, 31), 1)
    assert february_ends.day == (29 if calendar.isleap(year) else 28)


@given(months, subsidies, products)
def test_r2_7_r2_8_the_ladder_sends_each_notice_on_a_1st_with_that_months_23rd_to_pay(
    month: date, subsidy: str, product: str
) -> None:
    ladder = grace_ladder(subsidy, product, month)
    expected = 3 if has_grace_ladder(subsidy, product) else 1
    assert len(ladder.warnings) == expected
    for i, w in enumerate(ladder.warnings):
        assert w.sent_on == add_months(month, i) and w.pay_by == w.sent_on.replace(day=23)
        assert w.months_due[0] == month_key(month) and w.months_due[-1] == month_key(add_months(month, i + 1))
        assert (w.pay_by - w.sent_on).days >= NOTICE_LEAD_DAYS
    if expected == 3:
        assert ladder.end_date == add_months(month, 1) - timedelta(days=1), "R2.3: the last day of month 1"
        second = ladder.warnings[1].sent_on
        assert lead_time_ok(second, termination_deadline(ladder.final_pay_by, second)), "R2.7: 35 days"
        assert termination_deadline(ladder.final_pay_by, second) == ladder.final_pay_by
    else:
        assert ladder.end_date == month - timedelta(days=1), "R2.8: the last month paid in full"


@given(st.dates(date(1990, 1, 1), date(2100, 12, 31)))
def test_a_notice_on_any_day_gives_the_first_23rd_at_least_14_days_later(day: date) -> None:
    pay_by = pay_by_for(day)
    assert pay_by.day == 23 and NOTICE_LEAD_DAYS <= (pay_by - day).days < NOTICE_LEAD_DAYS + 31


History = tuple[str, str, date, dict[date, Decimal], dict[date, Decimal]]


@st.composite
def histories(draw: st.DrawFn) -> History:
    subsidy, product = draw(subsidies), draw(products)
    start = draw(st.builds(date, st.integers(2024, 2030), st.integers(1, 6), st.just(1)))
    days = st.dates(start - timedelta(days=40), start + timedelta(days=240))
    amounts = st.sampled_from([Decimal("50.00"), PREMIUM, Decimal("200.00"), Decimal("300.00")])
    paid = draw(st.dictionaries(days, amounts, max_size=6))
    returned = draw(st.dictionaries(days, amounts, max_size=2))
    return subsidy, product, start, paid, returned


def replay(history: History, *, skip_quiet_days: bool = False) -> tuple[date | None, list[SentNotice]]:
    """Run the daily assessment from 40 days before the start for 300 days; checks every termination.

    With `skip_quiet_days`, as the daily job does, a delinquent account is assessed only on a day its money
    moved (the payment handlers assess it then) or its saved standing says a step is due (`review_due`)."""
    subsidy, product, start, paid, returned = history
    sent: list[SentNotice] = []
    received = Decimal("0.00")
    charges = [Charge(month_key(start), PREMIUM)]
    saved = {
        "enrollment_id": "e",
        "status": "active",
        "ladder_month": None,
        "notice_level": 0,
        "notice_pay_by": None,
        "paid_through": None,
    }  # the enrollment's standing columns, as the job saves them
    day, last = start - timedelta(days=40), start + timedelta(days=300)
    while day <= last:
        if day.day == 1:
            charges.append(Charge(month_key(add_months(day, 1)), PREMIUM))
        moved = paid.get(day, Decimal("0.00")) - returned.get(day, Decimal("0.00"))
        received += moved
        standing = (saved["ladder_month"], saved["notice_level"], saved["notice_pay_by"], day)
        quiet = saved["status"] == "delinquent" and not moved and not review_due(*standing)
        if skip_quiet_days and quiet:
            day += timedelta(days=1)
            continue
        verdict = assess(Account("active", subsidy, product, charges, received, tuple(sent)), day)
        columns = ("enrollment_id", "status", "ladder_month", "notice_level", "notice_pay_by", "paid_through")
        saved = dict(zip(columns, standing_after(saved, verdict, None), strict=True))  # what the job writes
        if verdict.terminate:
            assert verdict.ladder is not None
            ladder = month_key(verdict.ladder.first_unpaid_month)
            notices = [n for n in sent if n.ladder_month == ladder]
            assert [n.level for n in notices] == list(range(1, len(verdict.ladder.warnings) + 1)), (
                f"every notice of the ladder before the end: {notices}"
            )
            assert all((n.pay_by - n.sent_on).days >= NOTICE_LEAD_DAYS for n in notices)
            assert day > notices[-1].pay_by, "never before the last pay-by date"
            if len(notices) == 3:
                assert (day - notices[1].sent_on).days > FINAL_NOTICE_LEAD_DAYS, "R2.7: 35 days after the 2nd notice"
            return day, sent
        if verdict.warning is not None:
            assert verdict.ladder is not None
            ladder = month_key(verdict.ladder.first_unpaid_month)
            sent.append(SentNotice(ladder, verdict.notice_level, day, verdict.warning.pay_by))
        day += timedelta(days=1)
    return None, sent


@settings(max_examples=150, deadline=None)
@given(histories())
def test_never_a_termination_without_every_notice_of_its_ladder_each_with_time_to_pay(history: History) -> None:
    replay(history)


@settings(max_examples=300, deadline=None)
@given(histories())
def test_skipping_the_days_review_due_rules_out_changes_nothing(history: History) -> None:
    """R2.7/R2.8: the daily job reads a delinquent account only when `review_due` says a step may be due (or
    its money moved); every notice and every termination lands on the same day as assessing daily."""
    assert replay(history, skip_quiet_days=True) == replay(history)


def test_review_due_skips_the_days_between_falling_behind_and_the_first_notice() -> None:
    """An account behind on the 24th is next read on M's 1st; one warned to pay by the 23rd, on the 24th."""
    assert not review_due("2027-01", 0, None, date(2026, 12, 24))
    assert not review_due("2027-01", 0, None, date(2026, 12, 31))
    assert review_due("2027-01", 0, None, date(2027, 1, 1))
    assert not review_due("2027-01", 1, date(2027, 1, 23), date(2027, 1, 23))
    assert review_due("2027-01", 1, date(2027, 1, 23), date(2027, 1, 24))
    assert review_due("2027-01", 2, None, date(2027, 1, 5)), "a level with no pay-by date on file: always"
    assert review_due(None, 0, None, date(2027, 1, 5)), "a standing the job did not write: always"


def test_the_replay_sees_terminations_r1_14_connectorcare_renewal_ends_after_march_23() -> None:
    """The property above is not vacuous: an unpaid January renewal walks the whole ladder."""
    ended, sent = replay(("connectorcare", "health", date(2027, 1, 1), {}, {}))
    assert ended == date(2027, 3, 24)
    assert [(n.level, n.sent_on, n.pay_by) for n in sent] == [
        (1, date(2027, 1, 1), date(2027, 1, 23)),
        (2, date(2027, 2, 1), date(2027, 2, 23)),
        (3, date(2027, 3, 1), date(2027, 3, 23)),
    ]
    ended, sent = replay(("none", "health", date(2027, 1, 1), {}, {}))
    assert ended == date(2027, 1, 24) and len(sent) == 1
