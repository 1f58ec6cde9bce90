"""SQL for payments: the vault rows, payments, idempotency records and the dues read model."""

from __future__ import annotations

from datetime import date
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
        SELECT instrument_token, member_id, account_last4, account_type
        FROM bank_accounts WHERE instrument_token = $1
        """,
        token,
    )


async def dues(con: Db, enrollment_id: str) -> Any:
    return await con.fetchrow("SELECT * FROM enrollment_dues WHERE enrollment_id = $1", enrollment_id)


async def upsert_dues(con: Db, invoice: InvoiceIssued) -> None:
    await con.execute(
        """
        INSERT INTO enrollment_dues (enrollment_id, member_id, billing_account, coverage_month, due_date,
                                     total_due, binder)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (enrollment_id) DO UPDATE SET
            coverage_month = EXCLUDED.coverage_month, due_date = EXCLUDED.due_date,
            total_due = EXCLUDED.total_due, binder = EXCLUDED.binder, updated_at = now()
        WHERE enrollment_dues.coverage_month <= EXCLUDED.coverage_month
        """,
        invoice.enrollment_id,
        invoice.member_id,
        invoice.billing_account,
        invoice.coverage_month,
        invoice.due_date,
        invoice.total_due,
        invoice.binder,
    )


async def insert_payment(con: Db, row: dict[str, Any]) -> bool:
    inserted = await con.fetchval(
        """
        INSERT INTO payments (payment_id, confirmation_number, request_id, enrollment_id, member_id, amount,
            channel, method, sec_code, instrument_token, account_last4, coverage_month, received_at,
            business_date, settles_on, correlation_id, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'accepted')
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
    )
    return bool(inserted)


async def payment(con: Db, payment_id: str) -> Any:
    return await con.fetchrow("SELECT * FROM payments WHERE payment_id = $1", payment_id)


async def payments_of(con: Db, enrollment_id: str) -> list[Any]:
    return list(await con.fetch("SELECT * FROM payments WHERE enrollment_id = $1 ORDER BY received_at", enrollment_id))


async def settle_due(con: asyncpg.Connection, business_date: date) -> list[Any]:
    """Every accepted debit whose settlement date has come clears, in one statement (ARCHITECTURE §7)."""
    return list(
        await con.fetch(
            """
        UPDATE payments SET status = 'cleared', cleared_on = $1
        WHERE status = 'accepted' AND settles_on <= $1
        RETURNING payment_id, enrollment_id, member_id, amount, cleared_on, correlation_id
        """,
            business_date,
        )
    )


async def idempotent_response(con: asyncpg.Connection, principal: str, key: str) -> Any:
    return await con.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE principal = $1 AND key = $2",
        principal,
        key,
    )


async def lock_idempotency_key(con: asyncpg.Connection, principal: str, key: str) -> None:
    """Serialise concurrent requests that share a key until the first one commits."""
    await con.execute("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))", principal, key)


async def store_idempotent_response(
    con: asyncpg.Connection, principal: str, key: str, request_hash: str, status_code: int, response: str
) -> None:
    await con.execute(
        """
        INSERT INTO idempotency_keys (principal, key, request_hash, status_code, response)
        VALUES ($1, $2, $3, $4, $5)
        """,
        principal,
        key,
        request_hash,
        status_code,
        response,
    )
