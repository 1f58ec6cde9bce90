"""Coverage's set-based handlers do exactly what the one-event handlers do (R1.9, R5.17, R2.4, R2.12).

Two fresh databases get the same enrollments and payments; one handles a run one event per transaction
(`payment_cleared`, `payment_submitted`), the other as one run (`payments_cleared`, `payments_submitted`).
The events and the rows must be equal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest
from premiums_common.consumer import Rejected
from premiums_contracts.events import EnrollmentCancelled, EnrollmentSubmitted

from tests.integration.coverage.world import World, cleared, enrollment, incoming, submitted
from tests.integration.support import service_database

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
async def twin_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with service_database("premiums_coverage", max_size=5) as pool:
        yield pool


async def snapshot(pool: asyncpg.Pool) -> tuple[list[Any], list[Any]]:
    enrollments = await pool.fetch("SELECT enrollment_id, status, paid_through FROM enrollments ORDER BY 1")
    payments = await pool.fetch(
        "SELECT payment_id, status, cleared_on, binder, amount, accepted_on FROM payments_received ORDER BY 1"
    )
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


async def test_r2_4_r2_12_a_run_of_payments_applies_exactly_what_one_by_one_applies(
    world: World, twin_pool: asyncpg.Pool
) -> None:
    """The set-based `payments_submitted` against `payment_submitted`: a binder, a prepayment, a delinquent
    member's cure (R2.4), a terminated member (handled one by one inside the run), a cancelled enrollment
    and a payment seen before, on two worlds walked through the same months."""
    twin = World(twin_pool)
    start = date(2026, 1, 1)
    paid_up, behind, ended, cancelled, seen = (
        enrollment(start),
        enrollment(start, subsidy="connectorcare"),
        enrollment(start),
        enrollment(start),
        enrollment(start),
    )
    pending = enrollment(date(2026, 4, 1))

    async def pay(w: World, e: EnrollmentSubmitted, payment_id: str, amount: str) -> None:
        await w.handle(submitted(e, payment_id, amount, w.today), w.handlers.payment_submitted)
        await w.handle(cleared(e, payment_id, amount, w.today), w.handlers.payment_cleared)

    for w in (world, twin):
        await w.on(date(2025, 11, 20))
        for e in (paid_up, behind, ended, cancelled, seen):
            await w.enroll(e)
        cancel = EnrollmentCancelled(
            enrollment_id=cancelled.enrollment_id, member_id=cancelled.member_id, reason="member request"
        )
        await w.handle(cancel, w.handlers.enrollment_cancelled)
        await w.on(date(2025, 11, 21))
        for e in (paid_up, behind, ended, seen):
            await pay(w, e, f"P-binder-{e.enrollment_id}", "100.00")
        await w.through(date(2026, 1, 10))
        await pay(w, paid_up, "P-feb", "100.00")
        await pay(w, seen, "P-seen", "100.00")
        await w.through(date(2026, 2, 10))
        await pay(w, paid_up, "P-mar", "100.00")
        await w.through(date(2026, 2, 24))
        await w.enroll(pending)
        await w.on(date(2026, 2, 25))
        w.published.clear()

    assert (await world.row(ended))["status"] == "terminated"
    assert (await world.row(behind))["status"] == "delinquent"
    day = date(2026, 2, 25)
    run = [
        submitted(pending, "P-pending", "100.00", day),
        submitted(paid_up, "P-apr", "100.00", day),
        submitted(behind, "P-cure", "200.00", day),
        submitted(ended, "P-ended", "100.00", day),
        submitted(cancelled, "P-cancelled", "50.00", day),
        submitted(seen, "P-seen", "100.00", date(2026, 1, 10)),
    ]
    for event in run:
        await world.handle(event, world.handlers.payment_submitted)
    async with twin_pool.acquire() as con, con.transaction():
        out = await twin.handlers.payments_submitted(con, [incoming(p, p.enrollment_id) for p in run])

    assert [o.event for o in out] == world.published
    assert {type(e).__name__ for e in world.published} == {"PaymentApplied"}
    assert len(world.published) == 5, "the payment seen before is applied once"
    assert (await twin.row(behind))["status"] == "active", "R2.4: the full balance cures the account"
    assert await snapshot(twin_pool) == await snapshot(world.pool)
    ladders = "SELECT enrollment_id, notice_level, notice_pay_by FROM enrollments ORDER BY 1"
    assert [tuple(r) for r in await twin_pool.fetch(ladders)] == [tuple(r) for r in await world.pool.fetch(ladders)]


async def test_r1_9_two_clearings_of_one_enrollment_in_a_run_activate_it_once(
    world: World, twin_pool: asyncpg.Pool
) -> None:
    """Records are keyed by enrollment, so a run holds one event per enrollment; a producer keying otherwise
    could still put two in one run, and then the run is handled one event at a time."""
    twin = World(twin_pool)
    e = enrollment(date(2026, 1, 1))
    day = date(2025, 11, 21)
    for w in (world, twin):
        await w.on(date(2025, 11, 20))
        await w.enroll(e)
        await w.on(day)
        for half in ("P-half-1", "P-half-2"):
            await w.handle(submitted(e, half, "50.00", day), w.handlers.payment_submitted)
        w.published.clear()
    run = [cleared(e, half, "50.00", date(2025, 11, 24)) for half in ("P-half-1", "P-half-2")]
    for event in run:
        await world.handle(event, world.handlers.payment_cleared)
    async with twin_pool.acquire() as con, con.transaction():
        out = await twin.handlers.payments_cleared(con, [incoming(c, f"other-key-{c.payment_id}") for c in run])
    assert [o.event for o in out] == world.published
    assert [type(x).__name__ for x in world.published] == ["CoverageActivated"]
    assert await snapshot(twin_pool) == await snapshot(world.pool)
