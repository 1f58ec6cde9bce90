"""A batch's notices are queued together at the end of the batch (N4), each once, each in its payment's trace."""

from __future__ import annotations

import secrets
from datetime import datetime

import asyncpg
import pytest
from premiums_common.timezone import NEW_YORK
from premiums_contracts import Envelope
from premiums_contracts.events import PaymentSubmitted
from premiums_notifications import handlers

from tests.integration.notifications.support import incoming, known_member, payment

pytestmark = pytest.mark.integration


def paid(enrollment_id: str, member_id: str) -> PaymentSubmitted:
    return payment(
        member_id,
        enrollment_id,
        f"pay_{secrets.token_hex(8)}",
        "2027-02",
        confirmation="PMT-TEST",
        last4="6789",
        received_at=datetime(2027, 1, 10, 9, 0, tzinfo=NEW_YORK),
    )


async def test_n4_a_run_of_payments_queues_one_confirmation_each_in_the_payments_own_trace(
    ntf_pool: asyncpg.Pool,
) -> None:
    members = [await known_member(ntf_pool) for _ in range(3)]
    payments = [paid(m.enrollment_id, m.member_id) for m in members]
    traces = [secrets.token_hex(16) for _ in payments]
    run = [
        incoming(
            p,
            p.enrollment_id,
            Envelope(
                type=p.ce_type(),
                source="/premiums/payments",
                subject=p.enrollment_id,
                traceparent=f"00-{trace}-{secrets.token_hex(8)}-01",
            ),
        )
        for p, trace in zip(payments, traces, strict=True)
    ]
    async with ntf_pool.acquire() as con, con.transaction(), handlers.notices_per_batch(con):
        await handlers.payments_submitted(con, run)
        waiting = await con.fetchval(
            "SELECT count(*) FROM notifications WHERE facts->>'payment_id' = ANY($1)", [p.payment_id for p in payments]
        )
        assert waiting == 0, "deferred: nothing is queued before the batch's handlers are done"
    rows = await ntf_pool.fetch(
        "SELECT facts->>'payment_id' AS payment_id, kind, channel, traceparent FROM notifications"
        " WHERE facts->>'payment_id' = ANY($1)",
        [p.payment_id for p in payments],
    )
    assert sorted((r["payment_id"], r["kind"], r["channel"]) for r in rows) == sorted(
        (p.payment_id, "N4", "email") for p in payments
    )
    trace_of = {r["payment_id"]: r["traceparent"].split("-")[1] for r in rows}
    assert [trace_of[p.payment_id] for p in payments] == traces
    recorded = await ntf_pool.fetchval(
        "SELECT count(*) FROM payments WHERE payment_id = ANY($1) AND confirmation_number = 'PMT-TEST'",
        [p.payment_id for p in payments],
    )
    assert recorded == 3
