"""D13 / N5 on a real PostgreSQL: the daily reminder run, one query for the day, none for paid or AutoPay months."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import asyncpg
import pytest
from premiums_contracts.events import (
    AutopayEnrolled,
    InvoiceIssued,
    PaymentApplied,
    PaymentReturned,
)
from premiums_notifications import handlers

from tests.integration.notifications.support import handle, known_member, notices_of, payment

pytestmark = pytest.mark.integration

TODAY = date(2027, 1, 8)


def _bill(member_id: str, enrollment_id: str, due: date, binder: bool) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=f"inv-{enrollment_id}",
        enrollment_id=enrollment_id,
        member_id=member_id,
        coverage_month=f"{due.year + (due.month == 12)}-{due.month % 12 + 1:02d}",
        due_date=due,
        amount_due=Decimal("312.40"),
        past_due=Decimal("0.00"),
        total_due=Decimal("312.40"),
        binder=binder,
    )


async def _reminders_on(pool: asyncpg.Pool, day: date) -> None:
    async with pool.acquire() as con, con.transaction():
        await handlers.send_reminders(con, day)


async def _n5(pool: asyncpg.Pool, member_id: str) -> list[str]:
    return [r["dedupe_key"].split(":", 3)[3] for r in await notices_of(pool, member_id) if r["kind"] == "N5"]


async def test_d13_binder_due_january_23_is_reminded_15_5_and_1_days_before_unless_paid_or_on_autopay(
    ntf_pool: asyncpg.Pool,
) -> None:
    due = date(2027, 1, 23)
    unpaid, paid, returned, applied, autopay, monthly = [await known_member(ntf_pool) for _ in range(6)]
    for e in (unpaid, paid, returned, applied, autopay):
        await handle(ntf_pool, _bill(e.member_id, e.enrollment_id, due, binder=True), e.enrollment_id)
    await handle(ntf_pool, _bill(monthly.member_id, monthly.enrollment_id, due, binder=False), monthly.enrollment_id)
    await handle(
        ntf_pool, payment(paid.member_id, paid.enrollment_id, f"p-{paid.member_id}", "2027-02"), paid.enrollment_id
    )
    await handle(
        ntf_pool,
        payment(returned.member_id, returned.enrollment_id, f"p-{returned.member_id}", "2027-02"),
        returned.enrollment_id,
    )
    await handle(
        ntf_pool,
        PaymentReturned(
            payment_id=f"p-{returned.member_id}",
            enrollment_id=returned.enrollment_id,
            amount=Decimal("312.40"),
            return_code="R01",
            return_reason="Insufficient funds",
            returned_on=date(2027, 1, 7),
            retry_eligible=False,
        ),
        returned.enrollment_id,
    )
    await handle(
        ntf_pool,
        PaymentApplied(
            payment_id=f"p-{applied.member_id}",
            enrollment_id=applied.enrollment_id,
            member_id=applied.member_id,
            amount=Decimal("312.40"),
            months_paid=["2027-02"],
            paid_through=date(2027, 2, 28),
            balance=Decimal("0.00"),
        ),
        applied.enrollment_id,
    )
    await handle(
        ntf_pool,
        AutopayEnrolled(
            mandate_id=f"m-{autopay.member_id}",
            enrollment_id=autopay.enrollment_id,
            member_id=autopay.member_id,
            account_last4="4321",
            draft_day=22,
        ),
        autopay.enrollment_id,
    )

    day = TODAY
    while day < due + timedelta(days=2):
        await _reminders_on(ntf_pool, day)
        await _reminders_on(ntf_pool, day)  # a replayed day queues nothing new
        day += timedelta(days=1)

    assert await _n5(ntf_pool, unpaid.member_id) == ["2027-02:15d", "2027-02:5d", "2027-02:1d"]
    assert await _n5(ntf_pool, returned.member_id) == ["2027-02:15d", "2027-02:5d", "2027-02:1d"]
    assert await _n5(ntf_pool, monthly.member_id) == ["2027-02:5d", "2027-02:1d"]
    assert await _n5(ntf_pool, paid.member_id) == []
    assert await _n5(ntf_pool, applied.member_id) == []
    assert await _n5(ntf_pool, autopay.member_id) == []


async def test_d13_reminders_stop_once_the_member_pays_between_two_reminder_days(ntf_pool: asyncpg.Pool) -> None:
    due = date(2027, 2, 23)
    e = await known_member(ntf_pool, "es")
    await handle(ntf_pool, _bill(e.member_id, e.enrollment_id, due, binder=False), e.enrollment_id)
    await _reminders_on(ntf_pool, date(2027, 2, 18))
    await handle(ntf_pool, payment(e.member_id, e.enrollment_id, f"p2-{e.member_id}", "2027-03"), e.enrollment_id)
    await _reminders_on(ntf_pool, date(2027, 2, 22))
    assert await _n5(ntf_pool, e.member_id) == ["2027-03:5d"]


async def test_d13_a_reminder_day_larger_than_one_chunk_reminds_every_open_bill_once(
    ntf_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run reads open bills through a cursor, `REMINDER_CHUNK` at a time: seven bills in chunks of two."""
    monkeypatch.setattr(handlers, "REMINDER_CHUNK", 2)
    due = date(2031, 7, 23)
    members = [await known_member(ntf_pool) for _ in range(7)]
    for e in members:
        await handle(ntf_pool, _bill(e.member_id, e.enrollment_id, due, binder=False), e.enrollment_id)
    await _reminders_on(ntf_pool, date(2031, 7, 18))
    await _reminders_on(ntf_pool, date(2031, 7, 18))
    assert [await _n5(ntf_pool, e.member_id) for e in members] == [["2031-08:5d"]] * 7
