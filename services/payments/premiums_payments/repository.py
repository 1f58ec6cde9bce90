"""SQL for payments: the vault rows, payments, idempotency records and the dues read model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg
from premiums_contracts.events import InvoiceIssued

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


async def insert_bank_account(con: Db, row: dict[str, Any]) -> None:
    await con.execute(
        """
        INSERT INTO bank_accounts (instrument_token, member_id, routing_number, account_ciphertext, key_id,
                                   account_last4, account_type, holder_name, validated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
        """,
        row["instrument_token"],
        row["member_id"],
        row["routing_number"],
        row["account_ciphertext"],
        row["key_id"],
        row["account_last4"],
        row["account_type"],
        row["holder_name"],
    )


async def bank_account(con: Db, token: str) -> Any:
    return await con.fetchrow(
        """
        SELECT instrument_token, member_id, account_last4, account_type, holder_name
        FROM bank_accounts WHERE instrument_token = $1
        """,
        token,
    )


async def dues(con: Db, enrollment_id: str, instrument_token: str | None = None) -> Any:
    """What an enrollment owes, with its closure if it is closed (`closure_kind`, `reinstatement_pay_by`,
    `reinstatement_due`) and, given a token, that bank account's owner and last four digits (`account_member_id`,
    `account_last4`): everything a payment checks, in one round trip."""
    return await con.fetchrow(
        """
        SELECT d.*, c.kind AS closure_kind, c.reinstatement_pay_by, c.reinstatement_due,
               b.member_id AS account_member_id, b.account_last4
        FROM enrollment_dues d
        LEFT JOIN enrollment_closures c ON c.enrollment_id = d.enrollment_id
        LEFT JOIN bank_accounts b ON b.instrument_token = $2
        WHERE d.enrollment_id = $1
        """,
        enrollment_id,
        instrument_token,
    )


async def upsert_dues(con: Db, invoice: InvoiceIssued) -> None:
    await upsert_dues_many(con, [invoice])


async def upsert_dues_many(con: Db, invoices: Sequence[InvoiceIssued]) -> None:
    """What each enrollment owes now, from its newest bill; an older bill arriving late changes nothing.
    One statement for many enrollments (each at most once)."""
    await con.execute(
        """
        INSERT INTO enrollment_dues (enrollment_id, member_id, billing_account, coverage_month, due_date,
                                     total_due, binder)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::numeric[],
                             $7::boolean[])
        ON CONFLICT (enrollment_id) DO UPDATE SET
            coverage_month = EXCLUDED.coverage_month, due_date = EXCLUDED.due_date,
            total_due = EXCLUDED.total_due, binder = EXCLUDED.binder, updated_at = now()
        WHERE enrollment_dues.coverage_month <= EXCLUDED.coverage_month
        """,
        [i.enrollment_id for i in invoices],
        [i.member_id for i in invoices],
        [i.billing_account for i in invoices],
        [i.coverage_month for i in invoices],
        [i.due_date for i in invoices],
        [i.total_due for i in invoices],
        [i.binder for i in invoices],
    )


async def insert_payment(con: Db, row: dict[str, Any]) -> bool:
    inserted = await con.fetchval(
        """
        INSERT INTO payments (payment_id, confirmation_number, request_id, enrollment_id, member_id, amount,
            channel, method, sec_code, instrument_token, account_last4, coverage_month, received_at,
            business_date, settles_on, correlation_id, status, binder, entry_description, payment_type,
            reinitiation_of, check_number, tel_authorization, unapplied_reason, traceparent)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $23,
                $17, $18, $19, $20, $21, $22, $24, $25)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING true
        """,
        row["payment_id"],
        row["confirmation_number"],
        row["request_id"],
        row["enrollment_id"],
        row["member_id"],
        row["amount"],
        row["channel"],
        row["method"],
        row["sec_code"],
        row["instrument_token"],
        row["account_last4"],
        row["coverage_month"],
        row["received_at"],
        row["business_date"],
        row["settles_on"],
        row["correlation_id"],
        row["binder"],
        row["entry_description"],
        row["payment_type"],
        row["reinitiation_of"],
        row["check_number"],
        row["tel_authorization"],
        row["status"],
        row.get("unapplied_reason"),
        row.get("traceparent"),
    )
    return bool(inserted)


async def payment(con: Db, payment_id: str) -> Any:
    return await con.fetchrow("SELECT * FROM payments WHERE payment_id = $1", payment_id)


async def payments_of(con: Db, enrollment_id: str) -> list[Any]:
    return list(await con.fetch("SELECT * FROM payments WHERE enrollment_id = $1 ORDER BY received_at", enrollment_id))


SETTLE_PAGE = 2000


@dataclass(frozen=True)
class SettlePage:
    """Where a settlement page ended, in the order the day walks the due debits."""

    settles_on: date
    payment_id: str


async def settle_due(
    con: asyncpg.Connection, business_date: date, *, after: SettlePage | None = None, limit: int = SETTLE_PAGE
) -> tuple[list[Any], SettlePage | None]:
    """The next page of accepted debits whose settlement date has come, cleared in one statement (ARCHITECTURE
    §7); with where the page ended, None once no due debit is left after `after`.

    Pages follow (settles_on, payment_id) by the `payments_to_settle_in_order` index, so the day's memory is one
    page however many debits it clears, and no page re-reads the ones cleared before it. Run it under
    `custom_plans`: a generic plan cannot see a page's bounds.
    """
    start = after or SettlePage(date.min, "")
    rows = await con.fetch(
        """
        WITH due AS (
            SELECT payment_id, settles_on FROM payments
            WHERE status = 'accepted' AND settles_on <= $1 AND (settles_on, payment_id) > ($2, $3)
            ORDER BY settles_on, payment_id LIMIT $4
            FOR UPDATE
        ), cleared AS (
            UPDATE payments p SET status = 'cleared', cleared_on = $1
            FROM due WHERE p.payment_id = due.payment_id
            RETURNING p.payment_id, p.enrollment_id, p.member_id, p.amount, p.cleared_on, p.correlation_id,
                      p.traceparent
        ), page_end AS (
            SELECT settles_on, payment_id FROM due ORDER BY settles_on DESC, payment_id DESC LIMIT 1
        )
        SELECT c.*, e.settles_on AS end_settles_on, e.payment_id AS end_payment_id
        FROM (SELECT 1) page LEFT JOIN page_end e ON true LEFT JOIN cleared c ON true
        """,
        business_date,
        start.settles_on,
        start.payment_id,
        limit,
    )
    end = rows[0]
    if end["end_payment_id"] is None:
        return [], None
    return [r for r in rows if r["payment_id"] is not None], SettlePage(end["end_settles_on"], end["end_payment_id"])


async def idempotent_response(con: asyncpg.Connection, principal: str, key: str) -> Any:
    return await con.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE principal = $1 AND key = $2",
        principal,
        key,
    )


async def claim_idempotency_key(
    con: asyncpg.Connection, principal: str, key: str, request_hash: str, business_date: date
) -> bool:
    """Claim the key for this transaction; False if it was used before.

    A request with the same key that is still running holds the row: this waits until it commits (False) or
    rolls back (True), so two requests with one key never both pay.
    """
    claimed = await con.fetchval(
        """
        INSERT INTO idempotency_keys (principal, key, request_hash, business_date) VALUES ($1, $2, $3, $4)
        ON CONFLICT (principal, key) DO NOTHING
        RETURNING true
        """,
        principal,
        key,
        request_hash,
        business_date,
    )
    return bool(claimed)


async def store_idempotent_response(
    con: asyncpg.Connection, principal: str, key: str, status_code: int, response: str
) -> None:
    """The response to a claimed key, written before the claim commits."""
    await con.execute(
        "UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE principal = $1 AND key = $2",
        principal,
        key,
        status_code,
        response,
    )


async def purge_idempotency_keys(con: asyncpg.Connection, before: date) -> int:
    """ARCHITECTURE §3: forget keys older than the retention, in one statement."""
    result = await con.execute(
        "DELETE FROM idempotency_keys WHERE coalesce(business_date, created_at::date) < $1", before
    )
    return int(result.split()[-1])


# -- the bank: returns and notifications of change ---------------------------------------------------


async def schedule_bank_reports(
    con: asyncpg.Connection, *, cleared_on: date, report_on: date, outcomes: list[tuple[str, str, str]]
) -> None:
    """The sandbox's reports for every debit that cleared on `cleared_on`: (last4, kind, code) picks them."""
    await con.execute(
        """
        INSERT INTO bank_reports (payment_id, kind, code, effective_on)
        SELECT p.payment_id, t.kind, t.code, $2
        FROM payments p
        JOIN unnest($3::text[], $4::text[], $5::text[]) AS t(last4, kind, code) ON t.last4 = p.account_last4
        WHERE p.cleared_on = $1 AND p.method = 'ach_debit'
        """,
        cleared_on,
        report_on,
        [o[0] for o in outcomes],
        [o[1] for o in outcomes],
        [o[2] for o in outcomes],
    )


@dataclass(frozen=True)
class BankReport:
    """One return or NOC as the bank reported it; a NOC's corrected data travels sealed (vault key id, bytes)."""

    payment_id: str
    kind: str
    code: str
    corrected: tuple[str, bytes] | None = None


async def add_bank_report(
    con: Db, payment_id: str, kind: str, code: str, effective_on: date, corrected: tuple[str, bytes] | None = None
) -> None:
    await add_bank_reports(con, [BankReport(payment_id, kind, code, corrected)], effective_on=effective_on)


async def add_bank_reports(con: Db, reports: Sequence[BankReport], *, effective_on: date) -> None:
    await con.executemany(
        """
        INSERT INTO bank_reports (payment_id, kind, code, effective_on, corrected_key_id, corrected_data)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        [(r.payment_id, r.kind, r.code, effective_on, *(r.corrected or (None, None))) for r in reports],
    )


async def apply_due_returns(con: asyncpg.Connection, business_date: date) -> list[Any]:
    """Returns due by `business_date`, deduplicated on (payment, return code) (DOMAIN §7.3), in one statement.

    A payment is returned once: a later return of it under another code is recorded, not applied again."""
    return list(
        await con.fetch(
            """
            WITH due AS (
                UPDATE bank_reports SET processed_on = $1
                WHERE processed_on IS NULL AND kind = 'return' AND effective_on <= $1
                RETURNING payment_id, code, effective_on
            ), fresh AS (
                INSERT INTO payment_returns (payment_id, return_code, returned_on)
                SELECT DISTINCT ON (payment_id, code) payment_id, code, effective_on FROM due
                ORDER BY payment_id, code, effective_on
                ON CONFLICT DO NOTHING
                RETURNING payment_id, return_code, returned_on
            )
            UPDATE payments p SET status = 'returned', return_code = f.return_code, returned_on = f.returned_on
            FROM fresh f WHERE p.payment_id = f.payment_id AND p.status <> 'returned'
            RETURNING p.payment_id, p.enrollment_id, p.member_id, p.amount, p.binder, p.channel, p.instrument_token,
                      p.account_last4, p.correlation_id, p.traceparent, f.return_code, f.returned_on
            """,
            business_date,
        )
    )


async def apply_due_notices(con: asyncpg.Connection, business_date: date) -> list[Any]:
    """NOCs due by `business_date`, once per (payment, change code) (R5.14), in one statement, with the sealed
    corrected data (of the first report that has some)."""
    return list(
        await con.fetch(
            """
            WITH due AS (
                UPDATE bank_reports SET processed_on = $1
                WHERE processed_on IS NULL AND kind = 'noc' AND effective_on <= $1
                RETURNING id, payment_id, code, effective_on, corrected_key_id, corrected_data
            ), chosen AS (
                SELECT DISTINCT ON (payment_id, code) * FROM due
                ORDER BY payment_id, code, effective_on, corrected_data IS NULL, id
            ), fresh AS (
                INSERT INTO bank_notices (payment_id, change_code, received_on)
                SELECT payment_id, code, effective_on FROM chosen
                ON CONFLICT DO NOTHING
                RETURNING payment_id, change_code
            )
            SELECT p.payment_id, p.enrollment_id, p.correlation_id, p.traceparent, p.instrument_token,
                   f.change_code, c.corrected_key_id, c.corrected_data
            FROM fresh f JOIN chosen c ON c.payment_id = f.payment_id AND c.code = f.change_code
            JOIN payments p ON p.payment_id = f.payment_id
            WHERE p.instrument_token IS NOT NULL
            ORDER BY p.payment_id
            """,
            business_date,
        )
    )


FILE_PAGE = 2000


async def debits_to_file(
    con: asyncpg.Connection, business_date: date, *, page: int = FILE_PAGE
) -> AsyncIterator[list[Any]]:
    """Every ACH debit accepted before `business_date` and not in a file yet, with its vault row, in file order
    (grouped by SEC code and entry description), `page` at a time from one cursor: PostgreSQL sorts the day
    once, and each debit is locked as it is read, so it is filed once. Mark each page with `record_filed`."""
    cursor = await con.cursor(
        """
        SELECT c.payment_id, c.amount, c.sec_code, c.entry_description, c.payment_type, c.business_date,
               c.enrollment_id, d.billing_account, b.instrument_token, b.routing_number,
               b.account_ciphertext, b.key_id, b.account_type, b.holder_name
        FROM payments c JOIN bank_accounts b USING (instrument_token)
        LEFT JOIN enrollment_dues d USING (enrollment_id)
        WHERE c.method = 'ach_debit' AND c.nacha_file IS NULL AND c.business_date < $1
        ORDER BY coalesce(c.sec_code, 'WEB'), c.entry_description, c.received_at, c.payment_id
        FOR UPDATE OF c
        """,
        business_date,
    )
    while rows := await cursor.fetch(page):
        yield rows


async def reserve_trace_sequences(con: Db, count: int) -> list[int]:
    """`count` trace sequences no other file uses (until the 7 digits wrap), ascending."""
    rows = await con.fetch("SELECT nextval('nacha_trace_sequence') AS n FROM generate_series(1, $1)", count)
    return sorted(int(r["n"]) for r in rows)


async def record_filed(con: Db, file_name: str, traces: Sequence[tuple[str, str]]) -> None:
    """Each debit's file and trace number (payment_id, trace), in one statement for a page."""
    await con.execute(
        """
        UPDATE payments p SET nacha_file = $1, trace_number = t.trace_number
        FROM unnest($2::text[], $3::text[]) AS t(payment_id, trace_number) WHERE p.payment_id = t.payment_id
        """,
        file_name,
        [payment_id for payment_id, _ in traces],
        [trace for _, trace in traces],
    )


async def debits_by_trace(con: Db, traces: Sequence[str]) -> dict[str, Any]:
    """The filed debit each trace names; after the sequence wraps, the most recently filed one."""
    rows = await con.fetch(
        """
        SELECT DISTINCT ON (trace_number) trace_number, payment_id, amount FROM payments
        WHERE trace_number = ANY($1::text[]) ORDER BY trace_number, business_date DESC
        """,
        list(traces),
    )
    return {r["trace_number"]: r for r in rows}


async def bank_file_outcome(con: Db, sha256: str) -> str | None:
    outcome = await con.fetchval("SELECT outcome FROM bank_files WHERE sha256 = $1", sha256)
    return None if outcome is None else str(outcome)


async def remember_bank_file(
    con: Db,
    sha256: str,
    file_name: str,
    received_on: date,
    outcome: str,
    returns: int,
    notices: int,
    problems: Sequence[str],
) -> None:
    await con.execute(
        """
        INSERT INTO bank_files (sha256, file_name, received_on, outcome, returns, notices, problems)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
        """,
        sha256,
        file_name,
        received_on,
        outcome,
        returns,
        notices,
        json.dumps(list(problems)),
    )


async def bank_files(con: Db, received_on: date) -> list[Any]:
    return list(await con.fetch("SELECT * FROM bank_files WHERE received_on = $1 ORDER BY read_at", received_on))


async def vault_row_for_update(con: asyncpg.Connection, token: str) -> Any:
    """The vault row a NOC corrects, locked: two NOCs for one account apply one after the other."""
    return await con.fetchrow(
        """
        SELECT instrument_token, routing_number, account_ciphertext, key_id, account_type, holder_name
        FROM bank_accounts WHERE instrument_token = $1 FOR UPDATE
        """,
        token,
    )


async def correct_bank_account(con: Db, token: str, row: dict[str, Any]) -> None:
    """R5.14: the vault row after a NOC: new ciphertext, same token."""
    await con.execute(
        """
        UPDATE bank_accounts SET routing_number = $2, account_ciphertext = $3, key_id = $4, account_last4 = $5,
            account_type = $6, holder_name = $7, corrected_by = $8, corrected_on = $9
        WHERE instrument_token = $1
        """,
        token,
        row["routing_number"],
        row["account_ciphertext"],
        row["key_id"],
        row["account_last4"],
        row["account_type"],
        row["holder_name"],
        row["corrected_by"],
        row["corrected_on"],
    )


async def cleared_debits_of_accounts_ending(con: Db, cleared_on: date, last4: str) -> list[Any]:
    """The sandbox's NOC candidates: debits cleared on `cleared_on` from accounts ending `last4`, with the vault row."""
    return list(
        await con.fetch(
            """
            SELECT p.payment_id, b.instrument_token, b.account_ciphertext, b.key_id FROM payments p
            JOIN bank_accounts b USING (instrument_token)
            WHERE p.cleared_on = $1 AND p.method = 'ach_debit' AND p.account_last4 = $2
            """,
            cleared_on,
            last4,
        )
    )


# -- who a guest is, and which enrollments are closed --------------------------------------------------


async def upsert_member_identity(con: Db, member_id: str, date_of_birth: date, zip_code: str, as_of: Any) -> None:
    await con.execute(
        """
        INSERT INTO member_identity (member_id, date_of_birth, zip, as_of) VALUES ($1, $2, $3, $4)
        ON CONFLICT (member_id) DO UPDATE SET date_of_birth = EXCLUDED.date_of_birth, zip = EXCLUDED.zip,
            as_of = EXCLUDED.as_of
        WHERE member_identity.as_of <= EXCLUDED.as_of
        """,
        member_id,
        date_of_birth,
        zip_code,
        as_of,
    )


async def upsert_enrollment_identity(con: Db, enrollment_id: str, member_id: str, billing_account: str) -> None:
    await con.execute(
        """
        INSERT INTO enrollment_identity (enrollment_id, member_id, billing_account) VALUES ($1, $2, $3)
        ON CONFLICT (enrollment_id) DO UPDATE SET member_id = EXCLUDED.member_id,
            billing_account = EXCLUDED.billing_account
        """,
        enrollment_id,
        member_id,
        billing_account,
    )


async def member_identity(con: Db, member_id: str) -> tuple[Any, list[Any]]:
    person = await con.fetchrow("SELECT * FROM member_identity WHERE member_id = $1", member_id)
    enrollments = await con.fetch(
        "SELECT enrollment_id, billing_account FROM enrollment_identity WHERE member_id = $1", member_id
    )
    return person, list(enrollments)


async def recent_mismatches(con: Db, member_id: str, since: Any) -> int:
    return int(
        await con.fetchval(
            "SELECT count(*) FROM guest_mismatches WHERE member_id = $1 AND attempted_at > $2", member_id, since
        )
    )


async def record_mismatch(con: Db, member_id: str, at: Any) -> None:
    await con.execute("INSERT INTO guest_mismatches (member_id, attempted_at) VALUES ($1, $2)", member_id, at)


async def close_enrollment(con: Db, enrollment_id: str, kind: str, effective_on: date) -> None:
    await con.execute(
        """
        INSERT INTO enrollment_closures (enrollment_id, kind, effective_on) VALUES ($1, $2, $3)
        ON CONFLICT (enrollment_id) DO UPDATE SET kind = EXCLUDED.kind, effective_on = EXCLUDED.effective_on
        """,
        enrollment_id,
        kind,
        effective_on,
    )


async def reopen_enrollment(con: Db, enrollment_id: str) -> None:
    await con.execute("DELETE FROM enrollment_closures WHERE enrollment_id = $1", enrollment_id)


async def open_for_reinstatement(con: Db, enrollment_id: str, pay_by: date, amount_due: Decimal) -> None:
    await con.execute(
        """
        UPDATE enrollment_closures SET reinstatement_pay_by = $2, reinstatement_due = $3
        WHERE enrollment_id = $1 AND kind = 'terminated'
        """,
        enrollment_id,
        pay_by,
        amount_due,
    )


# -- unapplied cash (R4.8) ---------------------------------------------------------------------------


async def open_enrollments(
    con: Db, *, enrollment_id: str | None = None, billing_account: str | None = None, member_id: str | None = None
) -> list[str]:
    """Billed enrollments coverage has not closed, found by exactly one of the identifiers."""
    rows = await con.fetch(
        """
        SELECT d.enrollment_id FROM enrollment_dues d
        LEFT JOIN enrollment_closures c USING (enrollment_id)
        WHERE c.enrollment_id IS NULL
          AND (d.enrollment_id = $1 OR d.billing_account = $2 OR d.member_id = $3)
        ORDER BY d.enrollment_id
        """,
        enrollment_id,
        billing_account,
        member_id,
    )
    return [r["enrollment_id"] for r in rows]


async def unapplied_payments(con: Db) -> list[Any]:
    return list(await con.fetch("SELECT * FROM payments WHERE status = 'unapplied' ORDER BY received_at"))


async def apply_unapplied(con: Db, payment_id: str, dues: Any, staff_id: str, at: Any) -> Any:
    """Move a suspended payment onto an enrollment, with who did it and when (the audit trail of R4.8)."""
    return await con.fetchrow(
        """
        UPDATE payments SET status = 'accepted', enrollment_id = $2, member_id = $3, coverage_month = $4,
            binder = $5, applied_by = $6, applied_at = $7
        WHERE payment_id = $1 AND status = 'unapplied'
        RETURNING *
        """,
        payment_id,
        dues["enrollment_id"],
        dues["member_id"],
        dues["coverage_month"],
        dues["binder"],
        staff_id,
        at,
    )
