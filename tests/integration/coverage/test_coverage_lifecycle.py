"""Coverage's rules from binder to termination and back, on a real PostgreSQL database (issue 4).

Business dates are explicit: each test owns its database and walks its own calendar.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from premiums_contracts.events import (
    AccountDelinquent,
    CoverageActivated,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelled,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
    PaymentApplied,
)
from premiums_coverage import repository as repo
from premiums_coverage.domain.delinquency import last_month_due_by, review_due
from premiums_coverage.policy import CoveragePolicy

from tests.integration.coverage.world import World, enrollment

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def active_from_january(world: World, *, subsidy: str = "none", premium: str = "100.00") -> object:
    """Enrolled Nov 20 for Jan 1, binder paid Nov 21: active."""
    await world.on(date(2025, 11, 20))
    e = enrollment(date(2026, 1, 1), premium=premium, subsidy=subsidy)
    await world.enroll(e)
    await world.on(date(2025, 11, 21))
    await world.pay(e, premium)
    assert world.of(e, CoverageActivated)
    return e


async def test_r1_4_bill_on_the_1st_charges_next_month_with_past_due_and_due_the_23rd(world: World) -> None:
    e = await active_from_january(world)
    zero = enrollment(date(2026, 1, 1), premium="0.00")
    await world.enroll(zero)
    pending = enrollment(date(2026, 2, 1))
    await world.enroll(pending)
    await world.through(date(2026, 1, 1))
    bills = [i for i in world.of(e, InvoiceIssued) if not i.binder]
    assert [(b.coverage_month, b.due_date, b.amount_due, b.past_due, b.total_due) for b in bills] == [
        ("2026-02", date(2026, 1, 23), Decimal("100.00"), Decimal("0.00"), Decimal("100.00"))
    ]
    assert world.of(zero, InvoiceIssued) == [], "D4: no bill while the amount due is $0"
    assert [i.binder for i in world.of(pending, InvoiceIssued)] == [True], "no monthly bill before activation"
    again = await world.on(date(2026, 1, 1))
    assert not [x for x in again if isinstance(x, InvoiceIssued)], "one bill per month, whatever is replayed"


async def test_r1_4_the_bill_carries_what_is_still_owed_and_a_credit_lowers_it(world: World) -> None:
    owing = await active_from_january(world)
    ahead = await active_from_january(world)
    await world.through(date(2025, 12, 1))
    await world.pay(ahead, "150.00")  # pays January in full and half of February in advance
    await world.through(date(2026, 1, 1))
    bill = next(i for i in world.of(owing, InvoiceIssued) if i.coverage_month == "2026-02")
    assert (bill.past_due, bill.total_due) == (Decimal("0.00"), Decimal("100.00"))
    await world.through(date(2026, 2, 1))
    march = next(i for i in world.of(owing, InvoiceIssued) if i.coverage_month == "2026-03")
    assert (march.past_due, march.total_due) == (Decimal("100.00"), Decimal("200.00")), "February still owed"
    ahead_march = next(i for i in world.of(ahead, InvoiceIssued) if i.coverage_month == "2026-03")
    assert (ahead_march.past_due, ahead_march.total_due) == (Decimal("0.00"), Decimal("50.00")), "D6: credit"


async def test_r1_6_no_bill_beyond_december_31(world: World) -> None:
    await world.on(date(2026, 11, 1))
    e = enrollment(date(2026, 12, 1))
    await world.enroll(e)
    await world.pay(e, "100.00")
    await world.through(date(2026, 12, 1))
    assert [i.coverage_month for i in world.of(e, InvoiceIssued)] == ["2026-12"]


async def test_r1_10_d3_late_binder_is_cancelled_and_late_money_stays_a_credit(world: World) -> None:
    """R1.10/R1.16: a binder has no grace period: missed, the enrollment is never effectuated (D3: the late
    money stays a credit)."""
    await world.on(date(2025, 12, 20))
    e = enrollment(date(2026, 1, 1))
    await world.enroll(e)
    await world.through(date(2025, 12, 23))
    assert (await world.row(e))["status"] == "pending_binder"
    await world.through(date(2025, 12, 24))
    assert len(world.of(e, EnrollmentCancelledNoBinder)) == 1
    await world.pay(e, "100.00")
    row = await world.row(e)
    assert row["status"] == "cancelled" and not world.of(e, CoverageActivated)
    assert await repo.charges(world.pool, e.enrollment_id) == []
    assert await repo.received_total(world.pool, e.enrollment_id) == Decimal("100.00"), "held as a credit"


async def test_d3_roll_forward_policy_moves_the_start_and_rebills_the_binder(coverage_pool: object) -> None:
    world = World(coverage_pool, CoveragePolicy(late_binder="roll_forward"))  # type: ignore[arg-type]
    await world.on(date(2025, 12, 20))
    e = enrollment(date(2026, 1, 1))
    await world.enroll(e)
    await world.through(date(2025, 12, 24))
    row = await world.row(e)
    assert (row["status"], row["coverage_start"], row["binder_due_date"]) == (
        "pending_binder",
        date(2026, 2, 1),
        date(2026, 1, 23),
    )
    assert [i.coverage_month for i in world.of(e, InvoiceIssued) if i.binder] == ["2026-01", "2026-02"]
    await world.pay(e, "100.00")
    assert world.of(e, CoverageActivated)[0].coverage_start == date(2026, 2, 1)


async def test_r2_8_unsubsidized_missed_month_is_warned_then_terminated_to_the_last_month_paid(world: World) -> None:
    """R2.8 (R2.6 for non-APTC members): one warning, then the end date is the last day paid in full; R2.5: the
    termination event carries that effective date and the reason for the notice."""
    e = await active_from_january(world)
    await world.through(date(2026, 1, 23))
    assert not world.of(e, AccountDelinquent), "February is due Jan 23: not late yet"
    await world.through(date(2026, 1, 24))
    assert (await world.row(e))["status"] == "delinquent", "R2.8: delinquent once the due date passed"
    assert not world.of(e, AccountDelinquent), "the notice goes out with the next bill, on the 1st (R2.7 example)"
    await world.through(date(2026, 2, 1))
    [warning] = world.of(e, AccountDelinquent)
    assert (warning.notice, warning.first_unpaid_month, warning.pay_by, warning.amount_past_due) == (
        "past_due_warning",
        "2026-02",
        date(2026, 2, 23),
        Decimal("100.00"),
    )
    assert (await world.row(e))["status"] == "delinquent"
    await world.through(date(2026, 2, 23))
    assert (await world.row(e))["notice_pay_by"] == date(2026, 2, 23), "the pay-by date stays on the account"
    assert not world.of(e, CoverageTerminated)
    await world.through(date(2026, 2, 24))
    [ended] = world.of(e, CoverageTerminated)
    assert (ended.end_date, ended.reinstate_by) == (date(2026, 1, 31), date(2026, 3, 31))
    row = await world.row(e)
    assert (row["status"], row["paid_through"]) == ("terminated", date(2026, 1, 31))
    assert [c.coverage_month for c in await repo.charges(world.pool, e.enrollment_id)] == ["2026-01"]
    await world.through(date(2026, 3, 2))
    assert not [i for i in world.of(e, InvoiceIssued) if i.coverage_month > "2026-03"], "no bill after the end"


async def test_r2_7_aptc_member_walks_the_three_month_ladder(world: World) -> None:
    """R2.1/R2.2: an APTC member who paid a full month gets three grace months; R2.3: missed, coverage ends on
    the last day of the first."""
    e = await active_from_january(world, subsidy="aptc")
    await world.through(date(2026, 4, 23))
    notices = [(n.notice, n.first_unpaid_month, n.pay_by, n.amount_past_due) for n in world.of(e, AccountDelinquent)]
    assert notices == [
        ("past_due_warning", "2026-02", date(2026, 2, 23), Decimal("100.00")),
        ("termination_warning_1", "2026-02", date(2026, 3, 23), Decimal("200.00")),
        ("termination_warning_2", "2026-02", date(2026, 4, 23), Decimal("300.00")),
    ]
    assert not world.of(e, CoverageTerminated)
    await world.through(date(2026, 4, 24))
    [ended] = world.of(e, CoverageTerminated)
    assert ended.end_date == date(2026, 2, 28), "R2.3: back to the last day of the first unpaid month"
    assert [c.coverage_month for c in await repo.charges(world.pool, e.enrollment_id)] == ["2026-01", "2026-02"]
    assert (await world.row(e))["status"] == "terminated"


async def test_r2_4_paying_the_full_balance_mid_ladder_makes_the_account_active_again(world: World) -> None:
    e = await active_from_january(world, subsidy="connectorcare")
    await world.through(date(2026, 2, 5))
    assert (await world.row(e))["status"] == "delinquent"
    await world.pay(e, "200.00")  # February, past due, and March, billed Feb 1
    assert world.of(e, PaymentApplied)[-1].balance == Decimal("0.00")
    row = await world.row(e)
    assert (row["status"], row["notice_level"], row["paid_through"]) == ("active", 0, date(2026, 3, 31))
    await world.through(date(2026, 4, 1))
    assert world.of(e, AccountDelinquent)[-1].first_unpaid_month == "2026-04", "a new ladder for April"
    assert [n.notice for n in world.of(e, AccountDelinquent)] == ["past_due_warning", "past_due_warning"]


async def test_d7_a_returned_monthly_payment_reverts_the_month_at_once_and_warns_with_the_next_bill(
    world: World,
) -> None:
    e = await active_from_january(world)
    await world.through(date(2026, 1, 20))
    payment = await world.pay(e, "100.00")
    await world.through(date(2026, 1, 27))
    assert (await world.row(e))["paid_through"] == date(2026, 2, 28) and not world.of(e, AccountDelinquent)
    await world.returned(e, payment, "100.00")
    row = await world.row(e)
    assert (row["status"], row["paid_through"]) == ("delinquent", date(2026, 1, 31))
    assert await world.returned(e, payment, "100.00") == [], "the same return twice changes nothing"
    await world.through(date(2026, 2, 1))
    [warning] = world.of(e, AccountDelinquent)
    assert (warning.first_unpaid_month, warning.pay_by) == ("2026-02", date(2026, 2, 23))


async def test_d7_a_returned_binder_cancels_even_after_activation(world: World) -> None:
    await world.on(date(2025, 11, 20))
    e = enrollment(date(2026, 1, 1))
    await world.enroll(e)
    binder = await world.pay(e, "100.00")
    assert world.of(e, CoverageActivated)
    await world.on(date(2025, 11, 24))
    caused = await world.returned(e, binder, "100.00")
    assert [type(x) for x in caused] == [EnrollmentCancelledNoBinder]
    assert (await world.row(e))["status"] == "cancelled"


async def test_r2_10_reinstatement_requested_and_paid_within_35_days(world: World) -> None:
    e = await active_from_january(world)
    await world.through(date(2026, 2, 24))
    assert (await world.row(e))["status"] == "terminated"
    await world.on(date(2026, 3, 1))
    async with world.pool.acquire() as con:
        await repo.save_reinstatement_request(
            con,
            e.enrollment_id,
            world.today,
            e.member_id,
            ("2026-02", "2026-03", "2026-04"),
            Decimal("100.00"),
            Decimal("300.00"),
            date(2026, 3, 31),
        )
    await world.pay(e, "250.00")
    assert not world.of(e, CoverageReinstated)
    await world.pay(e, "50.00")
    [back] = world.of(e, CoverageReinstated)
    assert back.paid_through == date(2026, 4, 30)
    row = await world.row(e)
    assert (row["status"], row["end_date"]) == ("active", None)


async def test_r3_3_zero_premium_member_becoming_positive_is_billed_from_the_next_bill(world: World) -> None:
    """R3.2/D4: $0 owes no binder and no bill; R3.3/R3.4: a premium that becomes positive (data, not code) is
    billed from the next bill."""
    await world.on(date(2025, 12, 10))
    e = enrollment(date(2026, 1, 1), premium="0.00", subsidy="connectorcare")
    await world.enroll(e)
    await world.through(date(2026, 2, 10))
    await world.change_premium(e, "2026-04", "45.00", aptc="300.00")
    assert (await world.row(e))["paid_through"] == date(2026, 3, 31), "counts as paid up to the change"
    await world.through(date(2026, 3, 1))
    [bill] = world.of(e, InvoiceIssued)
    assert (bill.coverage_month, bill.amount_due, bill.due_date) == ("2026-04", Decimal("45.00"), date(2026, 3, 23))


async def test_a_premium_change_bills_the_old_premium_until_its_effective_month(world: World) -> None:
    e = await active_from_january(world)
    await world.change_premium(e, "2026-03", "80.00")
    await world.through(date(2025, 12, 1))
    await world.pay(e, "100.00")
    await world.through(date(2026, 1, 1))
    await world.pay(e, "100.00")
    await world.through(date(2026, 2, 1))
    assert [(i.coverage_month, i.amount_due) for i in world.of(e, InvoiceIssued) if not i.binder] == [
        ("2026-02", Decimal("100.00")),
        ("2026-03", Decimal("80.00")),
    ]


async def test_upstream_cancellation_of_a_pending_enrollment(world: World) -> None:
    await world.on(date(2025, 11, 20))
    e = enrollment(date(2026, 1, 1))
    await world.enroll(e)
    cancel = EnrollmentCancelled(enrollment_id=e.enrollment_id, member_id=e.member_id, reason="member request")
    await world.handle(cancel, world.handlers.enrollment_cancelled)
    assert (await world.row(e))["status"] == "cancelled"
    await world.through(date(2025, 12, 24))
    assert not world.of(e, EnrollmentCancelledNoBinder)


async def test_d5_threshold_policy_keeps_a_95_percent_payer_active(coverage_pool: object) -> None:
    """R2.13/R2.14/D5: the net-percent threshold, off by default, treats 95% of the premium as paid."""
    world = World(coverage_pool, CoveragePolicy(threshold_percent=95))  # type: ignore[arg-type]
    e = await active_from_january(world)
    await world.through(date(2026, 1, 20))
    await world.pay(e, "95.00")
    await world.through(date(2026, 1, 24))
    assert not world.of(e, AccountDelinquent)
    assert (await world.row(e))["status"] == "active"


def renewal(start: date, *, subsidy: str) -> object:
    e = enrollment(start, subsidy=subsidy)
    return e.model_copy(update={"renewal_of": f"RefID{int(e.enrollment_id[5:]) + 1}"})


async def test_r1_14_an_unpaid_january_renewal_is_delinquent_not_cancelled_and_ends_december_31(world: World) -> None:
    await world.on(date(2026, 11, 10))
    e = renewal(date(2027, 1, 1), subsidy="none")
    assert await world.enroll(e) == [], "no binder invoice for a renewal"
    assert (await world.row(e))["status"] == "active"
    await world.through(date(2026, 12, 1))
    [bill] = world.of(e, InvoiceIssued)
    assert (bill.coverage_month, bill.due_date, bill.binder) == ("2027-01", date(2026, 12, 23), False)
    await world.through(date(2026, 12, 24))
    assert (await world.row(e))["status"] == "delinquent" and not world.of(e, EnrollmentCancelledNoBinder)
    await world.through(date(2027, 1, 23))
    [warning] = world.of(e, AccountDelinquent)
    assert (warning.notice, warning.pay_by, warning.first_unpaid_month) == (
        "past_due_warning",
        date(2027, 1, 23),
        "2027-01",
    )
    assert not world.of(e, CoverageTerminated)
    await world.through(date(2027, 1, 24))
    [ended] = world.of(e, CoverageTerminated)
    assert (ended.end_date, ended.reason) == (date(2026, 12, 31), "non_payment")


async def test_r1_14_r2_7_an_unpaid_connectorcare_renewal_is_warned_jan_feb_mar_and_ends_january_31(
    world: World,
) -> None:
    await world.on(date(2026, 12, 5))
    e = renewal(date(2027, 1, 1), subsidy="connectorcare")
    [bill] = await world.enroll(e)
    assert isinstance(bill, InvoiceIssued), "submitted after December 1: January is billed at once"
    assert (bill.coverage_month, bill.due_date, bill.binder) == ("2027-01", date(2026, 12, 23), False)
    await world.through(date(2027, 3, 23))
    notices = [(n.notice, world.sent_on(n), n.pay_by) for n in world.of(e, AccountDelinquent)]
    assert notices == [
        ("past_due_warning", date(2027, 1, 1), date(2027, 1, 23)),
        ("termination_warning_1", date(2027, 2, 1), date(2027, 2, 23)),
        ("termination_warning_2", date(2027, 3, 1), date(2027, 3, 23)),
    ]
    assert not world.of(e, CoverageTerminated)
    await world.through(date(2027, 3, 24))
    [ended] = world.of(e, CoverageTerminated)
    assert (ended.end_date, ended.reason) == (date(2027, 1, 31), "non_payment_after_grace")


async def test_r2_7_a_day_when_the_ladder_does_not_move_writes_nothing(world: World) -> None:
    """The daily job assesses every owing account every day; a standing that did not change is not written
    again, and the notice's pay-by date stays while the ladder is on the same month."""
    e = await active_from_january(world, subsidy="aptc")
    await world.through(date(2026, 2, 2))
    warned = await world.row(e)
    assert (warned["status"], warned["ladder_month"], warned["notice_pay_by"]) == (
        "delinquent",
        "2026-02",
        date(2026, 2, 23),
    )
    await world.through(date(2026, 2, 20))
    assert await world.row(e) == warned, "days with nothing new leave the row as it was (updated_at included)"
    await world.through(date(2026, 3, 2))
    assert (await world.row(e))["notice_pay_by"] == date(2026, 3, 23), "the next notice moves the pay-by date"


async def test_r2_7_the_daily_query_reads_a_delinquent_account_exactly_on_the_days_review_due_says(
    world: World,
) -> None:
    """The daily job's SQL applies `review_due` to the saved standing: walking an unpaid APTC ladder day by day,
    the query returns the account on exactly the days the pure rule says a step may be due, and the ladder
    still ends as R2.7 says (warned Feb 1, Mar 1, Apr 1; ended after Apr 23)."""
    e = await active_from_january(world, subsidy="aptc")
    await world.through(date(2026, 1, 23))
    read_on, due_on = [], []
    day = date(2026, 1, 24)
    while day <= date(2026, 4, 30) and (row := await world.row(e))["status"] != "terminated":
        async with world.pool.acquire() as con, con.transaction():
            page = await repo.accounts_to_assess(con, last_month_due_by(day), day, after="", limit=100)
        if e.enrollment_id in {r["enrollment_id"] for r in page}:
            read_on.append(day)
        if row["status"] == "active" or review_due(row["ladder_month"], row["notice_level"], row["notice_pay_by"], day):
            due_on.append(day)
        await world.on(day)
        day += timedelta(days=1)
    assert read_on == due_on
    assert date(2026, 1, 25) not in read_on and date(2026, 2, 1) in read_on, "behind on Jan 24, next read Feb 1"
    assert len(read_on) < 40, f"not every day: {len(read_on)} of {(day - date(2026, 1, 24)).days}"
    warned = [(w.notice, world.sent_on(w)) for w in world.of(e, AccountDelinquent)]
    assert warned == [
        ("past_due_warning", date(2026, 2, 1)),
        ("termination_warning_1", date(2026, 3, 1)),
        ("termination_warning_2", date(2026, 4, 1)),
    ]
    [ended] = world.of(e, CoverageTerminated)
    assert world.sent_on(ended) == date(2026, 4, 24)


async def test_r2_7_a_repriced_month_puts_a_delinquent_account_on_its_earlier_ladder_at_once(world: World) -> None:
    """R3.3/R2.7: a premium raised back to January leaves January short; the delinquent account (behind on
    February, warned Feb 1) is assessed when the change arrives, as when money moves, not on the day its
    February ladder next needs it (`review_due`): January's warning goes out the same day."""
    e = await active_from_january(world, subsidy="aptc")
    await world.through(date(2026, 2, 5))
    assert [(n.first_unpaid_month, world.sent_on(n)) for n in world.of(e, AccountDelinquent)] == [
        ("2026-02", date(2026, 2, 1))
    ]
    await world.change_premium(e, "2026-01", "150.00")
    [_, january] = world.of(e, AccountDelinquent)
    assert (january.first_unpaid_month, january.notice, world.sent_on(january)) == (
        "2026-01",
        "past_due_warning",
        date(2026, 2, 5),
    )
    assert january.pay_by == date(2026, 2, 23) and january.amount_past_due == Decimal("200.00")
    row = await world.row(e)
    assert (row["status"], row["ladder_month"], row["notice_level"]) == ("delinquent", "2026-01", 1)
