"""Delinquency, the grace ladders and termination (R2.7, R2.8, R2.4, D5, D6) as pure rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from premiums_coverage.domain.delinquency import (
    Account,
    amount_past_due,
    assess,
    first_unpaid_month,
    grace_ladder,
    last_month_due_by,
    lead_time_ok,
    paid_through,
    reinstatement_deadline,
    termination_deadline,
)
from premiums_coverage.domain.ledger import Charge

P = Decimal("100.00")


def charges(*months: str) -> list[Charge]:
    return [Charge(m, P) for m in months]


def test_r2_7_mahc_worked_example_jan_unpaid_walks_three_warnings_and_ends_jan_31() -> None:
    ladder = grace_ladder("connectorcare", "health", date(2026, 1, 1))
    assert [(w.notice, w.sent_after, w.pay_by) for w in ladder.warnings] == [
        ("past_due_warning", date(2025, 12, 23), date(2026, 1, 23)),
        ("termination_warning_1", date(2026, 1, 23), date(2026, 2, 23)),
        ("termination_warning_2", date(2026, 2, 23), date(2026, 3, 23)),
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
    tw1_sent = date(2026, 1, 24)
    assert lead_time_ok(tw1_sent, termination_deadline(ladder, tw1_sent))
    assert termination_deadline(ladder, tw1_sent) == date(2026, 3, 23)


def test_r2_7_a_late_second_notice_pushes_the_termination_deadline_to_35_days() -> None:
    ladder = grace_ladder("aptc", "health", date(2026, 1, 1))
    late = date(2026, 3, 1)
    assert termination_deadline(ladder, late) == date(2026, 4, 5)
    assert lead_time_ok(late, termination_deadline(ladder, late))
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


def account(subsidy: str, received: str, months: tuple[str, ...], level: int = 0, ladder: str | None = None) -> Account:
    return Account(
        "active" if not level else "delinquent",
        subsidy,
        "health",
        charges(*months),
        Decimal(received),
        ladder,
        level,
        date(2026, 1, 24) if level >= 2 else None,
    )


def test_r2_8_unsubsidized_timeline_warning_on_dec_24_terminated_on_jan_24() -> None:
    on_time = assess(account("none", "100.00", ("2025-12", "2026-01")), date(2025, 12, 23))
    assert on_time.status == "active" and on_time.warning is None
    warned = assess(account("none", "100.00", ("2025-12", "2026-01")), date(2025, 12, 24))
    assert warned.status == "delinquent" and warned.warning is not None
    assert (warned.warning.notice, warned.warning.pay_by, warned.notice_level) == (
        "past_due_warning",
        date(2026, 1, 23),
        1,
    )
    quiet = assess(account("none", "100.00", ("2025-12", "2026-01"), 1, "2026-01"), date(2026, 1, 10))
    assert quiet.status == "delinquent" and quiet.warning is None
    ended = assess(account("none", "100.00", ("2025-12", "2026-01", "2026-02"), 1, "2026-01"), date(2026, 1, 24))
    assert ended.terminate and ended.ladder is not None and ended.ladder.end_date == date(2025, 12, 31)


def test_r2_7_aptc_timeline_three_warnings_then_termination_back_to_jan_31() -> None:
    months = ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04")
    steps = [
        (date(2025, 12, 24), 0, "past_due_warning"),
        (date(2026, 1, 24), 1, "termination_warning_1"),
        (date(2026, 2, 24), 2, "termination_warning_2"),
    ]
    for today, level, notice in steps:
        a = assess(account("aptc", "100.00", months, level, "2026-01" if level else None), today)
        assert a.warning is not None and a.warning.notice == notice and a.notice_level == level + 1
    before_deadline = assess(account("aptc", "100.00", months, 3, "2026-01"), date(2026, 3, 23))
    assert not before_deadline.terminate and before_deadline.warning is None
    ended = assess(account("aptc", "100.00", months, 3, "2026-01"), date(2026, 3, 24))
    assert ended.terminate and ended.ladder is not None and ended.ladder.end_date == date(2026, 1, 31)


def test_r2_4_paying_the_whole_past_due_balance_mid_ladder_cures_the_account() -> None:
    cured = assess(account("aptc", "300.00", ("2025-12", "2026-01", "2026-02"), 2, "2026-01"), date(2026, 2, 10))
    assert cured.status == "active" and cured.cured and cured.warning is None


def test_d6_paying_the_oldest_month_late_restarts_the_ladder_on_the_next_unpaid_month() -> None:
    moved = assess(account("none", "200.00", ("2025-12", "2026-01", "2026-02"), 1, "2026-01"), date(2026, 1, 24))
    assert not moved.terminate and moved.warning is not None
    assert moved.ladder is not None and moved.ladder.first_unpaid_month == date(2026, 2, 1)
    assert moved.warning.pay_by == date(2026, 2, 23)


def test_amount_past_due_counts_only_months_already_due() -> None:
    months = charges("2025-12", "2026-01", "2026-02")
    assert amount_past_due(months, Decimal("100.00"), date(2025, 12, 24)) == Decimal("100.00")
    assert amount_past_due(months, Decimal("100.00"), date(2026, 1, 24)) == Decimal("200.00")
    assert amount_past_due(months, Decimal("500.00"), date(2026, 1, 24)) == Decimal("0.00")


def test_paid_through_is_the_day_before_the_first_unpaid_month() -> None:
    assert paid_through(charges("2026-01", "2026-02"), Decimal("100.00")) == date(2026, 1, 31)
    assert paid_through(charges("2026-01", "2026-02"), Decimal("200.00")) == date(2026, 2, 28)
    assert paid_through([], Decimal("0.00")) is None
