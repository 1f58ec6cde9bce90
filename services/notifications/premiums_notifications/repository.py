"""SQL for notifications: contacts, preferences, what we track for reminders, and the delivery log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg
from premiums_contracts.events import MemberContact
from premiums_contracts.ids import uuid7

from premiums_notifications.domain.catalogue import BillFacts, Notice, PaymentFacts
from premiums_notifications.domain.preferences import Preferences, Reach
from premiums_notifications.domain.reminders import OpenBill, due_dates_reminded_on

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


class UnknownEnrollment(LookupError):
    """An event names an enrollment whose EnrollmentSubmitted has not been seen yet: retried, then dead-lettered."""


# -- contacts, enrollments, preferences ----------------------------------------------------------------


async def upsert_member(con: Db, member_id: str, contact: MemberContact) -> None:
    await con.execute(
        """
        INSERT INTO members (member_id, first_name, last_name, email, phone, language) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (member_id) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
            email = EXCLUDED.email, phone = EXCLUDED.phone, language = EXCLUDED.language, updated_at = now()
        """,
        member_id,
        contact.first_name,
        contact.last_name,
        contact.email,
        contact.phone,
        contact.language,
    )


async def upsert_enrollment(
    con: Db, enrollment_id: str, member_id: str, billing_account: str, product: str, plan_name: str
) -> None:
    await con.execute(
        """
        INSERT INTO enrollments (enrollment_id, member_id, billing_account, product, plan_name)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (enrollment_id) DO NOTHING
        """,
        enrollment_id,
        member_id,
        billing_account,
        product,
        plan_name,
    )


async def member_of(con: Db, enrollment_id: str) -> str:
    member_id = await con.fetchval("SELECT member_id FROM enrollments WHERE enrollment_id = $1", enrollment_id)
    if member_id is None:
        raise UnknownEnrollment(f"enrollment {enrollment_id} is not known to notifications yet")
    return str(member_id)


def _preferences(row: Any) -> Preferences:
    if row is None or row["channels"] is None:
        return Preferences()
    return Preferences(
        language=row["language"],
        channels=tuple(row["channels"]),
        paperless=row["paperless"],
        reminders_opt_out=row["reminders_opt_out"],
    )


async def preferences_of(con: Db, member_id: str) -> Preferences:
    row = await con.fetchrow("SELECT * FROM preferences WHERE member_id = $1", member_id)
    return _preferences(row)


async def contact_language(con: Db, member_id: str) -> str | None:
    value = await con.fetchval("SELECT language FROM members WHERE member_id = $1", member_id)
    return str(value) if value else None


async def save_preferences(con: Db, member_id: str, prefs: Preferences, updated_by: str) -> None:
    await con.execute(
        """
        INSERT INTO preferences (member_id, language, channels, paperless, reminders_opt_out, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (member_id) DO UPDATE SET language = EXCLUDED.language, channels = EXCLUDED.channels,
            paperless = EXCLUDED.paperless, reminders_opt_out = EXCLUDED.reminders_opt_out,
            updated_by = EXCLUDED.updated_by, updated_at = now()
        """,
        member_id,
        prefs.language,
        list(prefs.channels),
        prefs.paperless,
        prefs.reminders_opt_out,
        updated_by,
    )


async def audience(con: Db, member_ids: Sequence[str]) -> dict[str, tuple[Preferences, Reach]]:
    """Preferences and reach of several members in one statement."""
    rows = await con.fetch(
        """
        SELECT ids.member_id, m.member_id IS NOT NULL AS known, m.email IS NOT NULL AS has_email,
               m.phone IS NOT NULL AS has_phone, p.language, p.channels, p.paperless, p.reminders_opt_out
        FROM unnest($1::text[]) AS ids(member_id)
        LEFT JOIN members m ON m.member_id = ids.member_id
        LEFT JOIN preferences p ON p.member_id = ids.member_id
        """,
        list(set(member_ids)),
    )
    return {
        r["member_id"]: (_preferences(r), Reach(known=r["known"], email=r["has_email"], phone=r["has_phone"]))
        for r in rows
    }


# -- what reminders need: bills, payments, AutoPay ------------------------------------------------------


async def record_bills(con: Db, bills: Sequence[tuple[str, str, str, date, Decimal, bool]]) -> None:
    """(enrollment, month, member, due date, total due, binder) of each bill, pipelined in one round trip."""
    await con.executemany(
        """
        INSERT INTO bills (enrollment_id, coverage_month, member_id, due_date, total_due, binder)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (enrollment_id, coverage_month) DO UPDATE SET due_date = EXCLUDED.due_date,
            total_due = EXCLUDED.total_due, binder = EXCLUDED.binder
        """,
        bills,
    )


async def bill_of(con: Db, enrollment_id: str, month: str | None) -> BillFacts:
    if month is None:
        return BillFacts()
    row = await con.fetchrow(
        "SELECT due_date, total_due FROM bills WHERE enrollment_id = $1 AND coverage_month = $2", enrollment_id, month
    )
    return BillFacts(row["due_date"], row["total_due"]) if row else BillFacts()


async def record_payments_submitted(
    con: Db, payments: Sequence[tuple[str, str, str, str | None, Decimal, str | None, str]]
) -> None:
    """(payment, enrollment, method, month, amount, last four, confirmation number) of each payment."""
    await con.executemany(
        """
        INSERT INTO payments (payment_id, enrollment_id, method, coverage_month, amount, account_last4,
                              confirmation_number)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (payment_id) DO UPDATE SET method = EXCLUDED.method, coverage_month = EXCLUDED.coverage_month,
            amount = EXCLUDED.amount, account_last4 = EXCLUDED.account_last4,
            confirmation_number = EXCLUDED.confirmation_number
        """,
        payments,
    )


async def record_payments_applied(con: Db, applied: Sequence[tuple[str, str, list[str]]]) -> None:
    """(payment, enrollment, months paid) of each payment coverage applied."""
    await con.executemany(
        """
        INSERT INTO payments (payment_id, enrollment_id, months_paid) VALUES ($1, $2, $3)
        ON CONFLICT (payment_id) DO UPDATE SET months_paid = EXCLUDED.months_paid
        """,
        applied,
    )


async def record_payment_returned(con: Db, payment_id: str, enrollment_id: str) -> PaymentFacts:
    row = await con.fetchrow(
        """
        INSERT INTO payments (payment_id, enrollment_id, returned) VALUES ($1, $2, true)
        ON CONFLICT (payment_id) DO UPDATE SET returned = true
        RETURNING method, coverage_month, account_last4, confirmation_number
        """,
        payment_id,
        enrollment_id,
    )
    assert row is not None
    return PaymentFacts(row["method"], row["coverage_month"], row["account_last4"], row["confirmation_number"])


async def record_autopay(con: Db, enrollment_id: str, mandate_id: str, active: bool) -> None:
    """The latest mandate of an enrollment decides; a late event about an older mandate changes nothing."""
    await con.execute(
        """
        INSERT INTO autopay (enrollment_id, mandate_id, active) VALUES ($1, $2, $3)
        ON CONFLICT (enrollment_id) DO UPDATE SET mandate_id = EXCLUDED.mandate_id, active = EXCLUDED.active
        WHERE autopay.mandate_id = EXCLUDED.mandate_id OR EXCLUDED.active
        """,
        enrollment_id,
        mandate_id,
        active,
    )


async def open_bills_due_around(con: asyncpg.Connection, today: date, chunk: int) -> AsyncIterator[list[OpenBill]]:
    """D13 in one statement: bills whose due date can get a reminder today, unpaid, not on AutoPay.

    A month is paid when a payment that was not returned either covered it in full when submitted or was
    applied to it by coverage (PaymentApplied). Read through a server-side cursor, `chunk` bills at a time, so a
    day with 100,000 open bills does not sit in memory at once; the caller must hold a transaction.
    """
    cursor = await con.cursor(
        """
        SELECT b.member_id, b.enrollment_id, b.coverage_month, b.due_date, b.total_due, b.binder
        FROM bills b
        WHERE b.due_date = ANY($1::date[])
          AND NOT EXISTS (SELECT 1 FROM autopay a WHERE a.enrollment_id = b.enrollment_id AND a.active)
          AND NOT EXISTS (
              SELECT 1 FROM payments p
              WHERE p.enrollment_id = b.enrollment_id AND NOT p.returned
                AND (b.coverage_month = ANY(p.months_paid)
                     OR (p.coverage_month = b.coverage_month AND p.amount >= b.total_due)))
        ORDER BY b.due_date, b.enrollment_id
        """,
        due_dates_reminded_on(today),
    )
    while rows := await cursor.fetch(chunk):
        yield [
            OpenBill(
                r["member_id"],
                r["enrollment_id"],
                r["coverage_month"],
                r["due_date"],
                f"{r['total_due']:.2f}",
                r["binder"],
            )
            for r in rows
        ]


# -- the delivery log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    """A notice to queue, with the event that called for it and the trace it continues."""

    notice: Notice
    triggered_by: str | None
    correlation_id: str | None
    traceparent: str | None


async def queue(con: Db, deliveries: Sequence[tuple[Queued, str]]) -> int:
    """Queue (notice, channel) pairs in one statement; one already queued under the same key and channel
    stays (exactly once)."""
    if not deliveries:
        return 0
    rows = [
        (
            f"ntf_{uuid7().hex}",  # time-ordered: inserts land at the edge of the primary key's index
            q.notice.member_id,
            q.notice.kind,
            q.notice.dedupe_key,
            channel,
            json.dumps(q.notice.facts),
            q.triggered_by or q.notice.dedupe_key,
            q.correlation_id,
            q.traceparent,
        )
        for q, channel in deliveries
    ]
    await con.execute(
        """
        INSERT INTO notifications (notification_id, member_id, kind, dedupe_key, channel, facts, triggered_by,
                                   correlation_id, traceparent)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[],
                             $8::text[], $9::text[])
        ON CONFLICT (dedupe_key, channel) DO NOTHING
        """,
        *(list(column) for column in zip(*rows, strict=True)),
    )
    await con.execute("NOTIFY notifications")
    return len(rows)


async def claim_due(con: asyncpg.Connection, limit: int, lease_seconds: int) -> list[Any]:
    """Lease pending notices to this sender for `lease_seconds`; replicas skip rows another one holds (SKIP LOCKED),
    and a lease that ran out (its sender died mid-batch) is taken again. The lease touches no indexed column, so
    it is a heap-only update (`005_lease_column.sql`)."""
    return list(
        await con.fetch(
            """
        WITH due AS (
            SELECT notification_id FROM notifications
            WHERE status = 'pending' AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until <= now())
            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
        )
        UPDATE notifications n SET leased_until = now() + make_interval(secs => $2), attempts = attempts + 1
        FROM due WHERE n.notification_id = due.notification_id
        RETURNING n.*, (SELECT row_to_json(m) FROM members m WHERE m.member_id = n.member_id) AS member,
                  (SELECT p.language FROM preferences p WHERE p.member_id = n.member_id) AS preferred_language
        """,
            limit,
            lease_seconds,
        )
    )


async def mark_sent_many(con: Db, sent: Sequence[tuple[str, str, str, str]]) -> None:
    """(notification_id, language, subject, provider answer) of each notice that went out, in one statement."""
    if not sent:
        return
    ids, languages, subjects, answers = (list(column) for column in zip(*sent, strict=True))
    await con.execute(
        """
        UPDATE notifications n SET status = 'sent', sent_at = now(), language = s.language, subject = s.subject,
                                   provider_response = s.answer
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS s(notification_id, language, subject, answer)
        WHERE n.notification_id = s.notification_id
        """,
        ids,
        languages,
        subjects,
        answers,
    )


async def mark_failed_many(con: Db, failed: Sequence[tuple[str, str]]) -> None:
    """(notification_id, reason) of each notice that can never go out."""
    if not failed:
        return
    ids, reasons = (list(column) for column in zip(*failed, strict=True))
    await con.execute(
        """
        UPDATE notifications n SET status = 'failed', provider_response = f.reason
        FROM unnest($1::text[], $2::text[]) AS f(notification_id, reason) WHERE n.notification_id = f.notification_id
        """,
        ids,
        reasons,
    )


async def postpone_many(con: Db, postponed: Sequence[tuple[str, float, str]]) -> None:
    """(notification_id, seconds to wait, reason) of each notice to try again later."""
    if not postponed:
        return
    ids, waits, reasons = (list(column) for column in zip(*postponed, strict=True))
    await con.execute(
        """
        UPDATE notifications n SET next_attempt_at = now() + make_interval(secs => p.wait), leased_until = NULL,
                                   provider_response = p.reason
        FROM unnest($1::text[], $2::float8[], $3::text[]) AS p(notification_id, wait, reason)
        WHERE n.notification_id = p.notification_id
        """,
        ids,
        waits,
        reasons,
    )


async def of_member(con: Db, member_id: str) -> list[Any]:
    return list(
        await con.fetch(
            """
        SELECT notification_id, kind, channel, status, language, subject, created_at, sent_at, provider_response,
               attempts, triggered_by, dedupe_key
        FROM notifications WHERE member_id = $1 ORDER BY created_at, channel
        """,
            member_id,
        )
    )
