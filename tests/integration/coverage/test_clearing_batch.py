"""The clearing day's set-based handler does exactly what the one-event handler does (R1.9, R5.17).

Two fresh databases get the same enrollments and payments; one clears them one event per transaction through
`payment_cleared`, the other as one run through `payments_cleared`. The events and the rows must be equal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from premiums_common.consumer import Incoming, Rejected
from premiums_common.timezone import NEW_YORK
from premiums_contracts import Envelope
from premiums_contracts.events import EnrollmentSubmitted, Event, PaymentCleared, PaymentSubmitted

from tests.integration.coverage.world import World, enrollment
from tests.integration.support import service_database

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
async def twin_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with service_database("premiums_coverage", max_size=5) as pool:
        yield pool


def incoming(event: Event, key: str) -> Incoming:
    envelope = Envelope(type=event.ce_type(), source="/it", subject=key)
    return Incoming(envelope, event, "payments.events", 0, 0, key, None)  # type: ignore[arg-type]


def submitted(e: EnrollmentSubmitted, payment_id: str, amount: str, day: date) -> PaymentSubmitted:
    return PaymentSubmitted(
        payment_id=payment_id,
        confirmation_number="TEST",
        enrollment_id=e.enrollment_id,
        member_id=e.member_id,
        amount=Decimal(amount),
        channel="portal",
        method="ach_debit",
        account_last4="4321",
        received_at=datetime.combine(day, datetime.min.time(), tzinfo=NEW_YORK),
        business_date=day,
    )


def cleared(e: EnrollmentSubmitted, payment_id: str, amount: str, day: date) -> PaymentCleared:
    return PaymentCleared(payment_id=payment_id, enrollment_id=e.enrollment_id, amount=Decimal(amount), cleared_on=day)


async def snapshot(pool: asyncpg.Pool) -> tuple[list[Any], list[Any]]:
    enrollments = await pool.fetch("SELECT enrollment_id, status, paid_through FROM enrollments ORDER BY 1")
    payments = await pool.fetch("SELECT payment_id, status, cleared_on FROM payments_received ORDER BY 1")
    return [tuple(r) for r in enrollments], [tuple(r) for r in payments]


async def test_r1_9_a_run_of_clearings_activates_exactly_what_one_by_one_activates(
    world: World, twin_pool: asyncpg.Pool
) -> None:
    twin = World(twin_pool)
    start = date(2026, 1, 1)
    full, partial, early_active, zero = (
        enrollment(start),  # binder paid in full: activates
        enrollment(start),  # binder paid in part: stays pending (R1.9 needs the full binder)
        enrollment(start),  # paid, cleared once already: a second clearing changes nothing
        enrollment(start, premium="0.00"),  # D4: active at once, its payment only clears
    )
    late = enrollment(start)  # paid after the binder due date: the clearing does not activate it (R1.10)
    day = date(2025, 11, 20)
    payments = [
        (full, "P-full", "100.00", day),
        (partial, "P-part", "40.00", day),
        (early_active, "P-early", "100.00", day),
        (zero, "P-zero", "5.00", day),
        (late, "P-late", "100.00", date(2026, 1, 2)),
    ]
    for w in (world, twin):
        await w.on(day)
        for e in (full, partial, early_active, zero, late):
            await w.enroll(e)
        for e, payment_id, amount, paid_on in payments:
            w.today = paid_on
            await w.handle(submitted(e, payment_id, amount, paid_on), w.handlers.payment_submitted)
        w.today = date(2026, 1, 5)
        w.service.clock.observe(w.today)
        await w.handle(cleared(early_active, "P-early", "100.00", day), w.handlers.payment_cleared)
        w.published.clear()

    clear_day = date(2026, 1, 5)
    run = [cleared(e, payment_id, amount, clear_day) for e, payment_id, amount, _ in payments]
    for event in run:
        await world.handle(event, world.handlers.payment_cleared)
    async with twin_pool.acquire() as con, con.transaction():
        out = await twin.handlers.payments_cleared(con, [incoming(c, c.enrollment_id) for c in run])
    batch_events = [o.event for o in out]

    assert batch_events == world.published
    assert [a.enrollment_id for a in batch_events] == [full.enrollment_id]
    assert await snapshot(twin_pool) == await snapshot(world.pool)


async def test_a_run_with_an_unknown_enrollment_is_refused_whole_so_the_consumer_retries_it_one_by_one(
    world: World,
) -> None:
    e = enrollment(date(2026, 1, 1))
    await world.on(date(2025, 11, 20))
    await world.enroll(e)
    ghost = enrollment(date(2026, 1, 1))
    run = [cleared(x, f"P-{x.enrollment_id}", "100.00", date(2025, 11, 21)) for x in (e, ghost)]
    with pytest.raises(Rejected, match="unknown enrollment"):
        async with world.pool.acquire() as con, con.transaction():
            await world.handlers.payments_cleared(con, [incoming(c, c.enrollment_id) for c in run])
