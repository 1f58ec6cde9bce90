"""notifications use cases: remember what notices need, queue the notices events call for (DOMAIN §6)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import date

import asyncpg
from premiums_common.consumer import Incoming
from premiums_common.outbox import Outgoing
from premiums_common.tracing import current_traceparent
from premiums_contracts.events import (
    AccountDelinquent,
    AutopayCancelled,
    AutopayChanged,
    AutopayDraftScheduled,
    AutopayEnrolled,
    AutopaySuspended,
    BankAccountChanged,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    EnrollmentSubmitted,
    InvoiceIssued,
    MemberContactChanged,
    PaymentApplied,
    PaymentReturned,
    PaymentSubmitted,
)

from premiums_notifications import repository as repo
from premiums_notifications.domain import catalogue, reminders
from premiums_notifications.domain.catalogue import Notice
from premiums_notifications.domain.preferences import channels_for
from premiums_notifications.repository import Queued

REMINDER_CHUNK = 2_000  # open bills the daily reminder run reads and queues at a time
_deferred: ContextVar[list[Queued] | None] = ContextVar("deferred_notices", default=None)


@asynccontextmanager
async def notices_per_batch(con: asyncpg.Connection) -> AsyncIterator[None]:
    """The consumer's unit of work: the notices a batch's events call for are queued together when the
    batch's handlers are done, in the same transaction (one audience query, one insert, one wake-up)
    instead of three statements per event."""
    token = _deferred.set([])
    try:
        yield
        await _flush(con)
    finally:
        _deferred.reset(token)


async def queue(
    con: asyncpg.Connection,
    notices: Sequence[Notice],
    triggered_by: str | None,
    correlation_id: str | None,
    cause_traceparent: str | None = None,
) -> None:
    """Queue each notice on the channels its member's preferences and D14 call for, once per channel.

    Inside a consumer batch the notices wait for the end of the batch; anywhere else they are queued now.
    Each notice continues the current span's trace, or, in a set-based handler (no span per event), the trace
    of the event that called for it."""
    traceparent = current_traceparent() or cause_traceparent
    queued = [Queued(n, triggered_by, correlation_id, traceparent) for n in notices]
    pending = _deferred.get()
    if pending is None:
        await _queue_now(con, queued)
    else:
        pending.extend(queued)


async def _flush(con: asyncpg.Connection) -> None:
    """Queue what the batch deferred so far: before a handler changes whom a notice reaches, and at its end."""
    pending = _deferred.get()
    if pending:
        await _queue_now(con, pending[:])
        pending.clear()


async def _queue_now(con: asyncpg.Connection, queued: Sequence[Queued]) -> None:
    audience = await repo.audience(con, [q.notice.member_id for q in queued])
    deliveries = [
        (q, channel) for q in queued for channel in channels_for(q.notice.kind, *audience[q.notice.member_id])
    ]
    await repo.queue(con, deliveries)


async def _notify(con: asyncpg.Connection, incoming: Incoming, *notices: Notice) -> list[Outgoing]:
    envelope = incoming.envelope
    await queue(con, notices, envelope.id, envelope.correlation_id, envelope.traceparent)
    return []


# -- enrollment.events: contacts ------------------------------------------------------------------------


async def enrollment_submitted(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: EnrollmentSubmitted = incoming.event
    await _flush(con)  # notices deferred before this event go to the contact they were meant for
    await repo.upsert_member(con, e.member_id, e.member)
    await repo.upsert_enrollment(con, e.enrollment_id, e.member_id, e.billing_account, e.product, e.plan_name)
    return []


async def contact_changed(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: MemberContactChanged = incoming.event
    await _flush(con)
    await repo.upsert_member(con, e.member_id, e.member)
    return []


# -- coverage.events ------------------------------------------------------------------------------------


async def invoice_issued(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    return await invoices_issued(con, [incoming])


async def invoices_issued(con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
    """N1/N3: remember each bill (reminders need it), and queue its notice."""
    bills: list[InvoiceIssued] = [i.event for i in run]
    await repo.record_bills(
        con, [(e.enrollment_id, e.coverage_month, e.member_id, e.due_date, e.total_due, e.binder) for e in bills]
    )
    for incoming in run:
        await _notify(con, incoming, catalogue.invoice_notice(incoming.event))
    return []


async def coverage_activated(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    return await _notify(con, incoming, catalogue.coverage_activated(incoming.event))


async def cancelled_no_binder(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: EnrollmentCancelledNoBinder = incoming.event
    return await _notify(con, incoming, catalogue.not_effectuated(e))


async def payment_applied(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    return await payments_applied(con, [incoming])


async def payments_applied(con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
    applied: list[PaymentApplied] = [i.event for i in run]
    await repo.record_payments_applied(con, [(e.payment_id, e.enrollment_id, list(e.months_paid)) for e in applied])
    return []


async def account_delinquent(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: AccountDelinquent = incoming.event
    return await _notify(con, incoming, catalogue.delinquency_warning(e))


async def coverage_terminated(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: CoverageTerminated = incoming.event
    return await _notify(con, incoming, catalogue.terminated(e))


async def coverage_reinstated(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: CoverageReinstated = incoming.event
    return await _notify(con, incoming, catalogue.reinstated(e))


# -- payments.events ------------------------------------------------------------------------------------


async def payment_submitted(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    return await payments_submitted(con, [incoming])


async def payments_submitted(con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
    """N4: remember each payment (a later return notice quotes it), and confirm it to the member."""
    submitted: list[PaymentSubmitted] = [i.event for i in run]
    await repo.record_payments_submitted(
        con,
        [
            (
                e.payment_id,
                e.enrollment_id,
                e.method,
                e.coverage_month,
                e.amount,
                e.account_last4,
                e.confirmation_number,
            )
            for e in submitted
        ],
    )
    for incoming in run:
        await _notify(con, incoming, catalogue.payment_confirmation(incoming.event))
    return []


async def payment_returned(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: PaymentReturned = incoming.event
    member_id = e.member_id or await repo.member_of(con, e.enrollment_id)
    payment = await repo.record_payment_returned(con, e.payment_id, e.enrollment_id)
    bill = await repo.bill_of(con, e.enrollment_id, payment.coverage_month)
    return await _notify(con, incoming, catalogue.payment_returned(e, member_id, payment, bill))


async def bank_account_changed(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: BankAccountChanged = incoming.event
    member_id = await repo.member_of(con, e.enrollment_id)
    return await _notify(con, incoming, catalogue.bank_account_changed(e, member_id, incoming.envelope.id))


# -- autopay.events -------------------------------------------------------------------------------------


async def autopay_enrolled(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: AutopayEnrolled = incoming.event
    await repo.record_autopay(con, e.enrollment_id, e.mandate_id, active=True)
    return await _notify(con, incoming, catalogue.autopay_enrolled(e))


async def autopay_changed(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: AutopayChanged = incoming.event
    return await _notify(con, incoming, catalogue.autopay_changed(e, incoming.envelope.id))


async def autopay_cancelled(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: AutopayCancelled = incoming.event
    await repo.record_autopay(con, e.enrollment_id, e.mandate_id, active=False)
    return await _notify(con, incoming, catalogue.autopay_cancelled(e))


async def autopay_suspended(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: AutopaySuspended = incoming.event
    await repo.record_autopay(con, e.enrollment_id, e.mandate_id, active=False)
    return await _notify(con, incoming, catalogue.autopay_suspended(e, incoming.envelope.id))


async def draft_scheduled(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
    e: AutopayDraftScheduled = incoming.event
    member_id = await repo.member_of(con, e.enrollment_id)
    return await _notify(con, incoming, catalogue.upcoming_draft(e, member_id))


# -- clock.events: the daily reminder run ---------------------------------------------------------------


async def send_reminders(con: asyncpg.Connection, today: date) -> list[Outgoing]:
    """D13/N5, once per business date: one query finds the open bills, read and queued `REMINDER_CHUNK` at a
    time in the day's transaction (memory stays flat however many members have not paid yet)."""
    async for bills in repo.open_bills_due_around(con, today, REMINDER_CHUNK):
        notices = [catalogue.due_date_reminder(bill, days) for bill, days in reminders.bills_to_remind(today, bills)]
        await queue(con, notices, f"reminders:{today.isoformat()}", None)
    return []
