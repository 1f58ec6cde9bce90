"""Delinquency, the grace ladders and termination (R2.7, R2.8, R2.4, D5, D6) as pure rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from premiums_coverage.domain.calendar import add_months, month_start
from premiums_coverage.domain.delinquency import (
    Account,
    SentNotice,
    amount_past_due,
    assess,
    first_unpaid_month,
    grace_ladder,
    last_month_due_by,
    lead_time_ok,
    paid_through,
    pay_by_for,
    reinstatement_deadline,
    termination_deadline,
)
from premiums_coverage.domain.ledger import Charge

P = Decimal("100.00")


def charges(*months: str) -> list[Charge]:
    return [Charge(m, P) for m in months]


def test_r2_7_mahc_worked_example_jan_unpaid_walks_three_warnings_and_ends_jan_31() -> None:
    ladder = grace_ladder("connectorcare", "health", date(2026, 1, 1))
    assert [(w.notice, w.sent_on, w.pay_by) for w in ladder.warnings] == [
        ("past_due_warning", date(2026, 1, 1), date(2026, 1, 23)),
        ("termination_warning_1", date(2026, 2, 1), date(2026, 2, 23)),
        ("termination_warning_2", date(2026, 3, 1), date(2026, 3, 23)),
    ]
    assert ladder.warnings[0].months_due == ("2026-01", "2026-02")
    assert ladder.warnings[2].months_due == ("2026-01", "2026-02", "2026-03", "2026-04")
    assert ladder.end_date == date(2026, 1, 31)


def test_r2_7_aptc_only_follows_the_same_ladder_as_connectorcare() -> None:
    assert grace_ladder("aptc", "health", date(2026, 1, 1)) == grace_ladder("connectorcare", "health", date(2026, 1, 1))


def test_r2_8_unsubsidized_gets_one_warning_and_ends_on_the_last_month_paid() -> None:
    ladder = grace_ladder("none", "health", date(2026, 1, 1))
    assert [(w.notice, w.pay_by) for w in ladder.warnings] == [("past_due_warning", date(2026, 1, 23))]
    assert ladder.end_date == date(2025, 12, 31)


def test_r2_8_dental_follows_the_unsubsidized_rule_even_with_a_subsidy() -> None:
    assert grace_ladder("aptc", "dental", date(2026, 3, 1)).end_date == date(2026, 2, 28)


def test_r2_7_the_second_notice_precedes_the_final_deadline_by_35_days_or_more() -> None:
    ladder = grace_ladder("aptc", "health", date(2026, 1, 1))
    tw1_sent = ladder.warnings[1].sent_on
    assert lead_time_ok(tw1_sent, termination_deadline(ladder.final_pay_by, tw1_sent))
    assert termination_deadline(ladder.final_pay_by, tw1_sent) == date(2026, 3, 23)


def test_r2_7_a_late_second_notice_pushes_the_termination_deadline_to_35_days() -> None:
    ladder = grace_ladder("aptc", "health", date(2026, 1, 1))
    late = date(2026, 3, 1)
    assert termination_deadline(ladder.final_pay_by, late) == date(2026, 4, 5)
    assert lead_time_ok(late, termination_deadline(ladder.final_pay_by, late))
    assert not lead_time_ok(date(2026, 2, 24), date(2026, 3, 23))


def test_r2_10_reinstatement_window_is_35_days_from_the_termination_notice() -> None:
    assert reinstatement_deadline(date(2026, 1, 24)) == date(2026, 2, 28)


def test_d6_money_pays_the_oldest_month_first_and_a_partial_month_is_unpaid() -> None:
    assert first_unpaid_month(charges("2026-01", "2026-02"), Decimal("150.00")) == "2026-02"
    assert first_unpaid_month(charges("2026-01", "2026-02"), Decimal("99.99")) == "2026-01"
    assert first_unpaid_month(charges("2026-01", "2026-02"), Decimal("200.00")) is None


def test_d5_net_percent_threshold_treats_95_percent_of_what_is_owed_as_paid() -> None:
    assert first_unpaid_month(charges("2026-01"), Decimal("95.00"), threshold_percent=95) is None
    assert first_unpaid_month(charges("2026-01"), Decimal("94.99"), threshold_percent=95) == "2026-01"
    assert first_unpaid_month(charges("2026-01", "2026-02"), Decimal("190.00"), threshold_percent=95) is None
    assert first_unpaid_month(charges("2026-01", "2026-02"), Decimal("189.00"), threshold_percent=95) == "2026-02"


def test_r1_1_a_month_is_due_once_the_23rd_of_the_month_before_has_passed() -> None:
    assert last_month_due_by(date(2025, 12, 23)) == "2025-12"
    assert last_month_due_by(date(2025, 12, 24)) == "2026-01"


NOTICES = ("past_due_warning", "termination_warning_1", "termination_warning_2")


def account(
    subsidy: str,
    received: str,
    months: tuple[str, ...],
    level: int = 0,
    ladder: str | None = None,
    pay_by: date | None = None,
) -> Account:
    """An account whose ladder for `ladder` has sent `level` notices on the schedule, the last giving `pay_by`."""
    notices = tuple(
        SentNotice(
            ladder,
            n,
            add_months(month_start(ladder), n - 1),
            pay_by if n == level and pay_by else add_months(month_start(ladder), n - 1).replace(day=23),
        )
        for n in range(1, level + 1)
        if ladder is not None
    )
    return Account(
        "active" if not level else "delinquent", subsidy, "health", charges(*months), Decimal(received), notices
    )


def test_r2_8_r1_14_unsubsidized_timeline_delinquent_dec_24_warned_jan_1_terminated_jan_24_to_dec_31() -> None:
    on_time = assess(account("none", "100.00", ("2025-12", "2026-01")), date(2025, 12, 23))
    assert on_time.status == "active" and on_time.warning is None
    behind = assess(account("none", "100.00", ("2025-12", "2026-01")), date(2025, 12, 24))
    assert behind.status == "delinquent" and behind.warning is None, "delinquent at once, the notice comes early Jan"
    warned = assess(account("none", "100.00", ("2025-12", "2026-01", "2026-02"), 0, "2026-01"), date(2026, 1, 1))
    assert warned.status == "delinquent" and warned.warning is not None
    assert (warned.warning.notice, warned.warning.pay_by, warned.notice_level) == (
        "past_due_warning",
        date(2026, 1, 23),
        1,
    )
    assert warned.warning.months_due == ("2026-01", "2026-02")
    quiet = assess(
        account("none", "100.00", ("2025-12", "2026-01"), 1, "2026-01", date(2026, 1, 23)), date(2026, 1, 10)
    )
    assert quiet.status == "delinquent" and quiet.warning is None
    months = ("2025-12", "2026-01", "2026-02")
    still = assess(account("none", "100.00", months, 1, "2026-01", date(2026, 1, 23)), date(2026, 1, 23))
    assert not still.terminate, "the pay-by date itself is still in time (R1.3)"
    ended = assess(account("none", "100.00", months, 1, "2026-01", date(2026, 1, 23)), date(2026, 1, 24))
    assert ended.terminate and ended.ladder is not None and ended.ladder.end_date == date(2025, 12, 31)


def test_r2_7_aptc_timeline_warnings_on_jan_1_feb_1_mar_1_then_termination_back_to_jan_31() -> None:
    months = ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04")
    steps = [
        (date(2026, 1, 1), 0, "past_due_warning", None, date(2026, 1, 23)),
        (date(2026, 2, 1), 1, "termination_warning_1", date(2026, 1, 23), date(2026, 2, 23)),
        (date(2026, 3, 1), 2, "termination_warning_2", date(2026, 2, 23), date(2026, 3, 23)),
    ]
    for today, level, notice, previous, pay_by in steps:
        early = assess(account("aptc", "100.00", months, level, "2026-01", previous), today - timedelta(days=1))
        assert early.warning is None, f"{notice} waits for {today}"
        a = assess(account("aptc", "100.00", months, level, "2026-01", previous), today)
        assert a.warning is not None and a.warning.notice == notice and a.notice_level == level + 1
        assert a.warning.pay_by == pay_by
    final = date(2026, 3, 23)
    before_deadline = assess(account("aptc", "100.00", months, 3, "2026-01", final), date(2026, 3, 23))
    assert not before_deadline.terminate and before_deadline.warning is None
    ended = assess(account("aptc", "100.00", months, 3, "2026-01", final), date(2026, 3, 24))
    assert ended.terminate and ended.ladder is not None and ended.ladder.end_date == date(2026, 1, 31)


def test_d7_an_account_that_falls_behind_late_is_warned_at_once_with_time_to_pay() -> None:
    """The March payment returned on March 25 (after March's notice day): warned that day, pay by April 23."""
    months = ("2026-01", "2026-02", "2026-03", "2026-04")
    late = assess(account("none", "200.00", months), date(2026, 3, 25))
    assert late.warning is not None and late.ladder is not None
    assert (late.warning.notice, late.warning.sent_on, late.warning.pay_by) == (
        "past_due_warning",
        date(2026, 3, 25),
        date(2026, 4, 23),
    )
    assert late.ladder.first_unpaid_month == date(2026, 3, 1) and late.ladder.end_date == date(2026, 2, 28)
    kept = assess(account("none", "200.00", months, 1, "2026-03", date(2026, 4, 23)), date(2026, 4, 23))
    assert not kept.terminate, "the member keeps the time the notice gave"


def test_pay_by_is_the_first_23rd_at_least_14_days_after_the_notice() -> None:
    assert pay_by_for(date(2026, 1, 1)) == date(2026, 1, 23)
    assert pay_by_for(date(2026, 1, 9)) == date(2026, 1, 23)
    assert pay_by_for(date(2026, 1, 10)) == date(2026, 2, 23)
    assert pay_by_for(date(2026, 12, 25)) == date(2027, 1, 23)


def test_r2_4_paying_the_whole_past_due_balance_mid_ladder_cures_the_account() -> None:
    cured = assess(account("aptc", "300.00", ("2025-12", "2026-01", "2026-02"), 2, "2026-01"), date(2026, 2, 10))
    assert cured.status == "active" and cured.cured and cured.warning is None


def test_d6_paying_the_oldest_month_late_restarts_the_ladder_on_the_next_unpaid_month() -> None:
    months = ("2025-12", "2026-01", "2026-02")
    moved = assess(account("none", "200.00", months, 1, "2026-01", date(2026, 1, 23)), date(2026, 1, 24))
    assert not moved.terminate and moved.warning is None and moved.notice_level == 0
    assert moved.ladder is not None and moved.ladder.first_unpaid_month == date(2026, 2, 1)
    warned = assess(account("none", "200.00", months, 0, "2026-02"), date(2026, 2, 1))
    assert warned.warning is not None and warned.warning.pay_by == date(2026, 2, 23)


def test_amount_past_due_counts_only_months_already_due() -> None:
    months = charges("2025-12", "2026-01", "2026-02")
    assert amount_past_due(months, Decimal("100.00"), date(2025, 12, 24)) == Decimal("100.00")
    assert amount_past_due(months, Decimal("100.00"), date(2026, 1, 24)) == Decimal("200.00")
    assert amount_past_due(months, Decimal("500.00"), date(2026, 1, 24)) == Decimal("0.00")


def test_paid_through_is_the_day_before_the_first_unpaid_month() -> None:
    assert paid_through(charges("2026-01", "2026-02"), Decimal("100.00")) == date(2026, 1, 31)
    assert paid_through(charges("2026-01", "2026-02"), Decimal("200.00")) == date(2026, 2, 28)
    assert paid_through([], Decimal("0.00")) is None


def test_d7_a_cure_undone_by_a_returned_payment_resumes_the_ladder_where_it_stopped() -> None:
    """TW1 for January went out Feb 1; the member paid everything, then that payment came back on Mar 25:
    as if it never happened, the next notice is TW2 (sent at once, with time to pay), not a new ladder."""
    months = ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04")
    a = assess(account("aptc", "100.00", months, 2, "2026-01"), date(2026, 3, 25))
    assert a.warning is not None and a.ladder is not None
    assert (a.warning.notice, a.warning.pay_by, a.notice_level) == ("termination_warning_2", date(2026, 4, 23), 3)
    assert a.ladder.end_date == date(2026, 1, 31)
