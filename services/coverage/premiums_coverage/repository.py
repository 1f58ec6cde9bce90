"""SQL for coverage: enrollments, invoices and the ledger. The only module that knows the tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from premiums_contracts.events import EnrollmentSubmitted, InvoiceIssued

from premiums_coverage.domain.effectuation import BinderPayment
from premiums_coverage.domain.ledger import Charge


async def insert_enrollment(con: asyncpg.Connection, e: EnrollmentSubmitted, binder_due: date, status: str) -> bool:
    inserted = await con.fetchval(
        """
        INSERT INTO enrollments (enrollment_id, member_id, billing_account, product, plan_id, plan_name,
            subsidy, coverage_start, coverage_end, monthly_premium, aptc_amount, binder_due_date, status)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (enrollment_id) DO NOTHING
        RETURNING true
        """,
        e.enrollment_id,
        e.member_id,
        e.billing_account,
        e.product,
        e.plan_id,
        e.plan_name,
        e.subsidy,
        e.coverage_start,
        e.coverage_end,
        e.monthly_premium,
        e.aptc_amount,
        binder_due,
        status,
    )
    return bool(inserted)


async def enrollment(con: asyncpg.Connection | asyncpg.Pool, enrollment_id: str, *, lock: bool = False) -> Any:
    sql = "SELECT * FROM enrollments WHERE enrollment_id = $1" + (" FOR UPDATE" if lock else "")
    return await con.fetchrow(sql, enrollment_id)


async def member_enrollments(pool: asyncpg.Pool, member_id: str) -> list[Any]:
    return list(await pool.fetch("SELECT * FROM enrollments WHERE member_id = $1 ORDER BY coverage_start", member_id))


async def set_status(con: asyncpg.Connection, enrollment_id: str, status: str, paid_through: date | None) -> None:
    await con.execute(
        "UPDATE enrollments SET status = $2, paid_through = $3, updated_at = now() WHERE enrollment_id = $1",
        enrollment_id,
        status,
        paid_through,
    )


async def insert_invoice(con: asyncpg.Connection, invoice: InvoiceIssued, *, issued_on: date) -> bool:
    inserted = await con.fetchval(
        """
        INSERT INTO invoices (invoice_id, enrollment_id, coverage_month, due_date, amount_due, past_due,
                              total_due, binder, issued_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (enrollment_id, coverage_month) DO NOTHING
        RETURNING true
        """,
        invoice.invoice_id,
        invoice.enrollment_id,
        invoice.coverage_month,
        invoice.due_date,
        invoice.amount_due,
        invoice.past_due,
        invoice.total_due,
        invoice.binder,
        issued_on,
    )
    return bool(inserted)


async def invoices(pool: asyncpg.Pool, enrollment_id: str) -> list[Any]:
    return list(
        await pool.fetch("SELECT * FROM invoices WHERE enrollment_id = $1 ORDER BY coverage_month", enrollment_id)
    )


async def add_charge(con: asyncpg.Connection, enrollment_id: str, coverage_month: str, amount: Decimal) -> None:
    await con.execute(
        "INSERT INTO charges VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        enrollment_id,
        coverage_month,
        amount,
    )


async def charges(con: asyncpg.Connection | asyncpg.Pool, enrollment_id: str) -> list[Charge]:
    rows = await con.fetch("SELECT coverage_month, amount FROM charges WHERE enrollment_id = $1", enrollment_id)
    return [Charge(r["coverage_month"], r["amount"]) for r in rows]


async def record_payment(
    con: asyncpg.Connection, payment_id: str, enrollment_id: str, amount: Decimal, accepted_on: date
) -> bool:
    inserted = await con.fetchval(
        """
        INSERT INTO payments_received (payment_id, enrollment_id, amount, accepted_on, status)
        VALUES ($1, $2, $3, $4, 'accepted') ON CONFLICT DO NOTHING RETURNING true
        """,
        payment_id,
        enrollment_id,
        amount,
        accepted_on,
    )
    return bool(inserted)


async def mark_cleared(con: asyncpg.Connection, payment_id: str, cleared_on: date) -> bool:
    updated = await con.fetchval(
        """
        UPDATE payments_received SET status = 'cleared', cleared_on = $2
        WHERE payment_id = $1 AND status = 'accepted' RETURNING true
        """,
        payment_id,
        cleared_on,
    )
    return bool(updated)


async def received_total(con: asyncpg.Connection | asyncpg.Pool, enrollment_id: str) -> Decimal:
    total = await con.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM payments_received WHERE enrollment_id = $1 AND status <> 'returned'",
        enrollment_id,
    )
    return Decimal(total)


async def binder_payments(con: asyncpg.Connection, enrollment_id: str) -> list[BinderPayment]:
    rows = await con.fetch(
        "SELECT amount, accepted_on, status FROM payments_received WHERE enrollment_id = $1 AND status <> 'returned'",
        enrollment_id,
    )
    return [BinderPayment(r["amount"], r["accepted_on"], r["status"] == "cleared") for r in rows]
