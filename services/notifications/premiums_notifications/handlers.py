"""notifications use cases: remember contacts, queue the notices events call for."""

from __future__ import annotations

import asyncpg
from premiums_common.consumer import Incoming
from premiums_common.outbox import Outgoing
from premiums_contracts.events import (
    CoverageActivated,
    EnrollmentSubmitted,
    InvoiceIssued,
    MemberContactChanged,
    PaymentSubmitted,
)

from premiums_notifications import repository as repo
from premiums_notifications.domain import catalogue
from premiums_notifications.domain.catalogue import Notice


async def _queue(con: asyncpg.Connection, incoming: Incoming, notice: Notice | None) -> list[Outgoing]:
    if notice is not None:
        await repo.queue(con, [notice], incoming.envelope.id, incoming.envelope.correlation_id)
    return []


async def enrollment_submitted(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: EnrollmentSubmitted = incoming.event
    await repo.upsert_member(con, e.member_id, e.member)
    return []


async def contact_changed(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: MemberContactChanged = incoming.event
    await repo.upsert_member(con, e.member_id, e.member)
    return []


async def invoice_issued(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    event: InvoiceIssued = incoming.event
    return await _queue(con, incoming, catalogue.binder_invoice(event))


async def payment_submitted(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    event: PaymentSubmitted = incoming.event
    return await _queue(con, incoming, catalogue.payment_confirmation(event))


async def coverage_activated(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    event: CoverageActivated = incoming.event
    return await _queue(con, incoming, catalogue.coverage_activated(event))
