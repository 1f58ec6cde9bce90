"""autopay's view of billing: what is due on each enrollment, kept current from other services' events.

Mandates and drafts build on this (issue: AutoPay); for now autopay only follows what is owed.
"""

from __future__ import annotations

import asyncpg
from premiums_common.consumer import Incoming
from premiums_common.outbox import Outgoing
from premiums_contracts.events import CoverageActivated, InvoiceIssued, PaymentSubmitted


async def invoice_issued(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: InvoiceIssued = incoming.event
    await con.execute(
        """
        INSERT INTO billing_state (enrollment_id, member_id, coverage_month, due_date, total_due)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (enrollment_id) DO UPDATE SET coverage_month = EXCLUDED.coverage_month,
            due_date = EXCLUDED.due_date, total_due = EXCLUDED.total_due, paid = 0, updated_at = now()
        WHERE billing_state.coverage_month < EXCLUDED.coverage_month
        """,
        e.enrollment_id,
        e.member_id,
        e.coverage_month,
        e.due_date,
        e.total_due,
    )
    return []


async def payment_submitted(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: PaymentSubmitted = incoming.event
    await con.execute(
        "UPDATE billing_state SET paid = paid + $2, updated_at = now() WHERE enrollment_id = $1",
        e.enrollment_id,
        e.amount,
    )
    return []


async def coverage_activated(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: CoverageActivated = incoming.event
    await con.execute(
        "UPDATE billing_state SET status = 'active', updated_at = now() WHERE enrollment_id = $1",
        e.enrollment_id,
    )
    return []
