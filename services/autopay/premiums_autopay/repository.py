"""autopay's SQL: billing state learned from events, mandates and their authorizations, drafts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg
from premiums_contracts.events import InvoiceIssued

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
LIVE = ("pending_validation", "active", "suspended")
COVERAGE_ENDED = ("terminated", "cancelled")
DRAFT_PAGE = 2000
"""Mandates per page of a draft day: the day's memory does not grow with the members on AutoPay."""

# -- billing state -----------------------------------------------------------------------------------


async def record_invoice(con: Db, e: InvoiceIssued, draft_on: date) -> bool:
    """The newest bill replaces the previous one; False when it is not newer (a re-issued month is ignored)."""
    return e.enrollment_id in await record_invoices(con, [(e, draft_on)])


async def record_invoices(con: Db, bills: Sequence[tuple[InvoiceIssued, date]]) -> set[str]:
    """`record_invoice` for many enrollments (each at most once) in one statement: the ones recorded."""
    rows = await con.fetch(
        """
        INSERT INTO billing_state (enrollment_id, member_id, coverage_month, due_date, total_due, binder, draft_on)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::numeric[], $6::boolean[],
                             $7::date[])
        ON CONFLICT (enrollment_id) DO UPDATE SET coverage_month = EXCLUDED.coverage_month,
            due_date = EXCLUDED.due_date, total_due = EXCLUDED.total_due, binder = EXCLUDED.binder,
            draft_on = EXCLUDED.draft_on, paid = 0, updated_at = now()
        WHERE billing_state.coverage_month < EXCLUDED.coverage_month
        RETURNING enrollment_id
        """,
        [e.enrollment_id for e, _ in bills],
        [e.member_id for e, _ in bills],
        [e.coverage_month for e, _ in bills],
        [e.due_date for e, _ in bills],
        [e.total_due for e, _ in bills],
        [e.binder for e, _ in bills],
        [draft_on for _, draft_on in bills],
    )
    return {r["enrollment_id"] for r in rows}


async def billing(con: Db, enrollment_id: str) -> Any:
    return await con.fetchrow("SELECT * FROM billing_state WHERE enrollment_id = $1", enrollment_id)


async def add_paid(con: Db, enrollment_id: str, amount: Decimal) -> None:
    await add_paid_many(con, [(enrollment_id, amount)])


async def add_paid_many(con: Db, amounts: Sequence[tuple[str, Decimal]]) -> None:
    """Money paid towards each enrollment's current bill, one statement for many (an enrollment once)."""
    await con.execute(
        """
        UPDATE billing_state b SET paid = greatest(b.paid + v.amount, 0), updated_at = now()
        FROM unnest($1::text[], $2::numeric[]) AS v(enrollment_id, amount)
        WHERE b.enrollment_id = v.enrollment_id
        """,
        [enrollment_id for enrollment_id, _ in amounts],
        [amount for _, amount in amounts],
    )


async def set_coverage_status(con: Db, enrollment_id: str, status: str) -> None:
    await set_coverage_statuses(con, [enrollment_id], status)


async def set_coverage_statuses(con: Db, enrollment_ids: Sequence[str], status: str) -> None:
    await con.execute(
        "UPDATE billing_state SET status = $2, updated_at = now() WHERE enrollment_id = ANY($1::text[])",
        list(enrollment_ids),
        status,
    )


async def set_delinquency_deadlines(con: Db, deadlines: Sequence[tuple[str, date]]) -> None:
    """Each (enrollment, pay-by date) an automatic retry must fall inside, in one statement."""
    await con.execute(
        """
        UPDATE billing_state b SET delinquent_pay_by = v.pay_by, updated_at = now()
        FROM unnest($1::text[], $2::date[]) AS v(enrollment_id, pay_by)
        WHERE b.enrollment_id = v.enrollment_id
        """,
        [enrollment_id for enrollment_id, _ in deadlines],
        [pay_by for _, pay_by in deadlines],
    )


# -- mandates ----------------------------------------------------------------------------------------


async def live_mandate(con: asyncpg.Connection, enrollment_id: str, *, lock: bool = False) -> Any:
    return await con.fetchrow(
        f"SELECT * FROM mandates WHERE enrollment_id = $1 AND status = ANY($2::text[]){' FOR UPDATE' if lock else ''}",
        enrollment_id,
        list(LIVE),
    )


async def live_mandates(con: asyncpg.Connection, enrollment_ids: Sequence[str]) -> dict[str, Any]:
    """The live mandate of each of several enrollments that has one, in one statement."""
    rows = await con.fetch(
        "SELECT * FROM mandates WHERE enrollment_id = ANY($1::text[]) AND status = ANY($2::text[])",
        list(enrollment_ids),
        list(LIVE),
    )
    return {r["enrollment_id"]: r for r in rows}


async def mandate(con: Db, mandate_id: str, *, lock: bool = False) -> Any:
    return await con.fetchrow(
        f"SELECT * FROM mandates WHERE mandate_id = $1{' FOR UPDATE' if lock else ''}", mandate_id
    )


async def mandates_of(con: Db, enrollment_id: str) -> list[Any]:
    return list(
        await con.fetch("SELECT * FROM mandates WHERE enrollment_id = $1 ORDER BY created_at DESC", enrollment_id)
    )


async def insert_mandate(con: asyncpg.Connection, row: dict[str, Any]) -> None:
    await con.execute(
        """
        INSERT INTO mandates (mandate_id, enrollment_id, member_id, instrument_token, account_last4, account_type,
                              channel, sec_code, payment_type, status, draft_day)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """,
        row["mandate_id"],
        row["enrollment_id"],
        row["member_id"],
        row["instrument_token"],
        row["account_last4"],
        row["account_type"],
        row["channel"],
        row["sec_code"],
        row["payment_type"],
        row["status"],
        row["draft_day"],
    )


async def change_instrument(con: asyncpg.Connection, mandate_id: str, row: dict[str, Any]) -> None:
    """A new account or channel for a live mandate; it applies to the next draft (a sent one is not recalled)."""
    await con.execute(
        """
        UPDATE mandates SET instrument_token = $2, account_last4 = $3, account_type = $4, channel = $5,
            sec_code = $6, payment_type = $7, status = $8, status_reason = NULL, flag = NULL, updated_at = now()
        WHERE mandate_id = $1
        """,
        mandate_id,
        row["instrument_token"],
        row["account_last4"],
        row["account_type"],
        row["channel"],
        row["sec_code"],
        row["payment_type"],
        row["status"],
    )


async def record_authorization(con: asyncpg.Connection, mandate_id: str, auth: dict[str, Any]) -> None:
    await con.execute(
        """
        INSERT INTO mandate_authorizations (mandate_id, authorization_text_version, authorized_at, authorized_by,
            channel, sec_code, instrument_token, account_last4, ip_address, user_agent)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        mandate_id,
        auth["authorization_text_version"],
        auth["authorized_at"],
        auth["authorized_by"],
        auth["channel"],
        auth["sec_code"],
        auth["instrument_token"],
        auth["account_last4"],
        auth["ip_address"],
        auth["user_agent"],
    )


async def latest_authorization(con: Db, mandate_id: str) -> Any:
    return await con.fetchrow(
        "SELECT * FROM mandate_authorizations WHERE mandate_id = $1 ORDER BY id DESC LIMIT 1", mandate_id
    )


async def end_mandate(con: asyncpg.Connection, mandate_id: str, status: str, reason: str) -> None:
    """Suspend, revoke or cancel a mandate; whatever it had scheduled (binder draft, retry) is cancelled."""
    await con.execute(
        "UPDATE mandates SET status = $2, status_reason = $3, updated_at = now() WHERE mandate_id = $1",
        mandate_id,
        status,
        reason,
    )
    await con.execute(
        "UPDATE drafts SET status = 'cancelled' WHERE mandate_id = $1 AND status = 'scheduled'", mandate_id
    )


async def flag_mandate(con: asyncpg.Connection, mandate_id: str, flag: str) -> None:
    await con.execute("UPDATE mandates SET flag = $2, updated_at = now() WHERE mandate_id = $1", mandate_id, flag)


async def apply_notification_of_change(
    con: asyncpg.Connection, instrument_token: str, last4: str, account_type: str | None
) -> list[Any]:
    """R5.14: the bank corrected a vaulted account; every live mandate on that token takes the new details."""
    return list(
        await con.fetch(
            """
        UPDATE mandates SET account_last4 = $2, account_type = coalesce($3, account_type), updated_at = now()
        WHERE instrument_token = $1 AND status = ANY($4::text[])
        RETURNING *
        """,
            instrument_token,
            last4,
            account_type,
            list(LIVE),
        )
    )


async def remember_announced_amount(con: asyncpg.Connection, mandate_id: str, amount: Decimal) -> None:
    await con.execute(
        "UPDATE mandates SET last_draft_amount = $2, updated_at = now() WHERE mandate_id = $1", mandate_id, amount
    )


# -- drafts ------------------------------------------------------------------------------------------


async def claim_monthly_drafts(
    con: asyncpg.Connection, today: date, *, after: str = "", limit: int = DRAFT_PAGE
) -> tuple[list[Any], str | None]:
    """D9/R4.4: one draft per active mandate whose bill reaches its draft day, for what is still owed.

    One statement per page of `limit` due mandates after `after` (in mandate order); returns the page's drafts
    and the last mandate it looked at, None when no due mandate is left. `FOR UPDATE SKIP LOCKED` lets replicas
    share the work, and the unique (mandate, coverage month, attempt) constraint makes a replayed day or a
    restart draft nothing twice: a mandate already drafted this month is in the page but not in the drafts
    (the constraint's index decides, not an anti-join the planner could turn into a scan of the drafts made
    earlier in the same day). The amount is R4.4's `draft_amount`: what is due less what was paid, never more
    than billed. Run it under `custom_plans`: PostgreSQL's generic plan for a page, which a prepared statement
    switches to after five runs, sorts every remaining due mandate (1.1 s a page at 30,000 mandates, 0.2 s
    planned for its own parameters).
    """
    rows = await con.fetch(
        """
        WITH due AS (
            SELECT m.mandate_id, m.enrollment_id, m.instrument_token, m.sec_code, m.payment_type, b.coverage_month,
                   least(b.total_due, b.total_due - b.paid) AS amount
            FROM mandates m JOIN billing_state b ON b.enrollment_id = m.enrollment_id
            WHERE m.status = 'active' AND NOT b.binder AND b.status <> ALL($2::text[])
              AND b.draft_on <= $1 AND b.due_date >= $1 AND b.total_due - b.paid > 0
              AND m.mandate_id > $3
            ORDER BY m.mandate_id LIMIT $4
            FOR UPDATE OF m SKIP LOCKED
        ), drafted AS (
            INSERT INTO drafts (draft_id, mandate_id, enrollment_id, coverage_month, attempt, kind, amount, draft_on,
                                instrument_token, sec_code, payment_type, status)
            SELECT 'drf_' || replace(gen_random_uuid()::text, '-', ''), mandate_id, enrollment_id, coverage_month,
                   0, 'monthly', amount, $1, instrument_token, sec_code, payment_type, 'requested'
            FROM due
            ON CONFLICT ON CONSTRAINT drafts_once_per_mandate_month DO NOTHING
            RETURNING *
        ), remembered AS (
            -- The array lets the planner find the page's mandates by key: joined to the CTE alone, it scanned
            -- every mandate (and the versions this day's earlier pages left) once per page.
            UPDATE mandates m SET last_draft_amount = d.amount, updated_at = now()
            FROM drafted d
            WHERE m.mandate_id = d.mandate_id AND m.mandate_id = ANY (ARRAY(SELECT mandate_id FROM drafted))
        )
        SELECT d.*, (SELECT max(mandate_id) FROM due) AS page_end FROM (SELECT 1) page LEFT JOIN drafted d ON true
        """,
        today,
        list(COVERAGE_ENDED),
        after,
        limit,
    )
    return [r for r in rows if r["draft_id"] is not None], rows[0]["page_end"]


async def release_scheduled_drafts(con: asyncpg.Connection, today: date) -> list[Any]:
    """Binder drafts and retries whose date came: requested if still owed and allowed, else skipped.

    A draft is sent only while its mandate is active, coverage has not ended and at least its amount is
    still owed (a retry must repeat the original amount exactly, R5.10, so a partly paid month skips it).
    """
    return list(
        await con.fetch(
            """
        WITH ready AS (
            SELECT d.draft_id,
                   (m.status = 'active' AND b.status <> ALL($2::text[])
                    AND least(b.total_due, b.total_due - b.paid) >= d.amount) AS go
            FROM drafts d
            JOIN mandates m ON m.mandate_id = d.mandate_id
            JOIN billing_state b ON b.enrollment_id = d.enrollment_id
            WHERE d.status = 'scheduled' AND d.draft_on <= $1
            FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE drafts d SET status = CASE WHEN r.go THEN 'requested' ELSE 'skipped' END
        FROM ready r WHERE d.draft_id = r.draft_id
        RETURNING d.*
        """,
            today,
            list(COVERAGE_ENDED),
        )
    )


async def schedule_draft(con: asyncpg.Connection, row: dict[str, Any]) -> bool:
    inserted = await con.fetchval(
        """
        INSERT INTO drafts (draft_id, mandate_id, enrollment_id, coverage_month, attempt, kind, amount, draft_on,
                            instrument_token, sec_code, payment_type, reinitiation_of, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'scheduled')
        ON CONFLICT ON CONSTRAINT drafts_once_per_mandate_month DO NOTHING
        RETURNING true
        """,
        row["draft_id"],
        row["mandate_id"],
        row["enrollment_id"],
        row["coverage_month"],
        row["attempt"],
        row["kind"],
        row["amount"],
        row["draft_on"],
        row["instrument_token"],
        row["sec_code"],
        row["payment_type"],
        row.get("reinitiation_of"),
    )
    return bool(inserted)


async def drafts_submitted(con: asyncpg.Connection, submitted: Sequence[tuple[str, str]]) -> None:
    """Each (draft id, payment id): the draft became that payment, in one statement."""
    await con.execute(
        """
        UPDATE drafts d SET payment_id = v.payment_id, status = 'submitted'
        FROM unnest($1::text[], $2::text[]) AS v(draft_id, payment_id)
        WHERE d.draft_id = v.draft_id AND d.payment_id IS NULL
        """,
        [draft_id for draft_id, _ in submitted],
        [payment_id for _, payment_id in submitted],
    )


async def draft_returned(con: asyncpg.Connection, payment_id: str, return_code: str) -> Any:
    """The draft a returned payment was, marked returned; None when it was not one of autopay's drafts."""
    return await con.fetchrow(
        """
        UPDATE drafts SET status = 'returned', return_code = $2
        WHERE payment_id = $1 AND status <> 'returned'
        RETURNING *
        """,
        payment_id,
        return_code,
    )


async def reinitiations_since(con: asyncpg.Connection, enrollment_id: str, since: date) -> int:
    count = await con.fetchval(
        """
        SELECT count(*) FROM drafts
        WHERE enrollment_id = $1 AND kind = 'retry' AND draft_on > $2 AND status NOT IN ('skipped', 'cancelled')
        """,
        enrollment_id,
        since,
    )
    return int(count)


async def drafts_of(con: Db, enrollment_id: str) -> list[Any]:
    return list(
        await con.fetch("SELECT * FROM drafts WHERE enrollment_id = $1 ORDER BY draft_on, attempt", enrollment_id)
    )
