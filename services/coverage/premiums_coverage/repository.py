"""SQL for coverage: enrollments, invoices and the ledger. The only module that knows the tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from premiums_contracts.events import EnrollmentSubmitted, InvoiceIssued

from premiums_coverage.domain.calendar import month_key
from premiums_coverage.domain.delinquency import Account, SentNotice
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
    con: asyncpg.Connection,
    payment_id: str,
    enrollment_id: str,
    amount: Decimal,
    accepted_on: date,
    *,
    binder: bool = False,
) -> bool:
    return payment_id in await record_payments(con, [(payment_id, enrollment_id, amount, accepted_on, binder)])


async def record_payments(
    con: asyncpg.Connection, payments: Sequence[tuple[str, str, Decimal, date, bool]]
) -> set[str]:
    """(payment, enrollment, amount, accepted on, binder) of each payment, in one statement; returns the ones
    not recorded before."""
    rows = await con.fetch(
        """
        INSERT INTO payments_received (payment_id, enrollment_id, amount, accepted_on, status, binder)
        SELECT payment_id, enrollment_id, amount, accepted_on, 'accepted', binder
        FROM unnest($1::text[], $2::text[], $3::numeric[], $4::date[], $5::boolean[])
             AS p(payment_id, enrollment_id, amount, accepted_on, binder)
        ON CONFLICT DO NOTHING RETURNING payment_id
        """,
        *(list(column) for column in zip(*payments, strict=True)),
    )
    return {r["payment_id"] for r in rows}


async def mark_cleared(con: asyncpg.Connection, payment_id: str, cleared_on: date) -> bool:
    return payment_id in await mark_cleared_many(con, [(payment_id, cleared_on)])


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


@dataclass(frozen=True)
class Ledger:
    """An enrollment's charges and the payments that still count (not returned), read in one round trip."""

    charges: list[Charge]
    payments: list[BinderPayment]

    @property
    def received(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal(0))


async def ledger(con: asyncpg.Connection | asyncpg.Pool, enrollment_id: str) -> Ledger:
    return (await ledgers(con, [enrollment_id]))[enrollment_id]


async def ledgers(con: asyncpg.Connection | asyncpg.Pool, enrollment_ids: Sequence[str]) -> dict[str, Ledger]:
    """The ledgers of several enrollments in one round trip (an enrollment with no rows has an empty one)."""
    rows = await con.fetch(
        """
        SELECT enrollment_id, true AS is_charge, coverage_month, amount, NULL::date AS accepted_on,
               NULL::text AS status
        FROM charges WHERE enrollment_id = ANY($1::text[])
        UNION ALL
        SELECT enrollment_id, false, NULL, amount, accepted_on, status
        FROM payments_received WHERE enrollment_id = ANY($1::text[]) AND status <> 'returned'
        """,
        list(enrollment_ids),
    )
    out = {enrollment_id: Ledger(charges=[], payments=[]) for enrollment_id in enrollment_ids}
    for r in rows:
        entry = out[r["enrollment_id"]]
        if r["is_charge"]:
            entry.charges.append(Charge(r["coverage_month"], r["amount"]))
        else:
            entry.payments.append(BinderPayment(r["amount"], r["accepted_on"], r["status"] == "cleared"))
    return out


async def enrollments_locked(con: asyncpg.Connection, enrollment_ids: Sequence[str]) -> dict[str, Any]:
    """Several enrollments, locked for the transaction in one statement (in key order, so two writers
    never wait on each other in a cycle)."""
    rows = await con.fetch(
        "SELECT * FROM enrollments WHERE enrollment_id = ANY($1::text[]) ORDER BY enrollment_id FOR UPDATE",
        list(enrollment_ids),
    )
    return {r["enrollment_id"]: r for r in rows}


MARK_CLEARED_MANY = """
    UPDATE payments_received p SET status = 'cleared', cleared_on = c.cleared_on
    FROM unnest($1::text[], $2::date[]) AS c(payment_id, cleared_on)
    WHERE p.payment_id = c.payment_id AND p.status = 'accepted'
    RETURNING p.payment_id
"""
"""Looks each payment up by its key (given the server's `random_page_cost` for a cached working set: see
`premiums_cli/stack/postgres.py`). The statistics of `status` are stale on a clearing day (the payments
were accepted since the last ANALYZE), and with the default cost the planner scanned the table and compared
every pending payment with every id of the batch."""


async def mark_cleared_many(con: asyncpg.Connection, cleared: Sequence[tuple[str, date]]) -> set[str]:
    """`mark_cleared` for many payments at once; returns the ones that were waiting to clear."""
    rows = await con.fetch(
        MARK_CLEARED_MANY,
        [payment_id for payment_id, _ in cleared],
        [day for _, day in cleared],
    )
    return {r["payment_id"] for r in rows}


async def activate_many(con: asyncpg.Connection, activated: Sequence[tuple[str, date | None]]) -> None:
    """`set_status(..., "active", paid_through)` for many enrollments in one statement."""
    await con.execute(
        """
        UPDATE enrollments e SET status = 'active', paid_through = a.paid_through, updated_at = now()
        FROM unnest($1::text[], $2::date[]) AS a(enrollment_id, paid_through)
        WHERE e.enrollment_id = a.enrollment_id
        """,
        [enrollment_id for enrollment_id, _ in activated],
        [paid_through for _, paid_through in activated],
    )


# -- issue 4: monthly bill, late binders, delinquency, returns, reinstatement -----------------------


async def bill_month(con: asyncpg.Connection, coverage_month: str, due_date: date, issued_on: date) -> list[str]:
    """R1.4/N3, D4, R1.6: one statement charges `coverage_month` to every active or delinquent enrollment
    covered that month with a premium above $0, and issues its invoice; returns the ids of the invoices it
    issued (`bills` reads them, a chunk at a time)."""
    rows = await con.fetch(
        """
        WITH priced AS (
            SELECT e.enrollment_id, coalesce(pc.monthly_premium, e.monthly_premium) AS monthly_premium
            FROM enrollments e
            LEFT JOIN LATERAL (
                SELECT monthly_premium FROM premium_changes c
                WHERE c.enrollment_id = e.enrollment_id AND c.effective_month <= $1
                ORDER BY c.effective_month DESC LIMIT 1
            ) pc ON true
            WHERE e.status IN ('active', 'delinquent')
              AND date_trunc('month', e.coverage_start) <= to_date($1, 'YYYY-MM')
              AND e.coverage_end >= to_date($1, 'YYYY-MM')
        ), billable AS (
            SELECT enrollment_id, monthly_premium FROM priced WHERE monthly_premium > 0
        ), charged AS (
            INSERT INTO charges (enrollment_id, coverage_month, amount)
            SELECT enrollment_id, $1, monthly_premium FROM billable
            ON CONFLICT DO NOTHING
            RETURNING enrollment_id, amount
        ), owed AS (
            SELECT c.enrollment_id, c.amount,
                   coalesce((SELECT sum(x.amount) FROM charges x
                             WHERE x.enrollment_id = c.enrollment_id AND x.coverage_month < $1), 0)
                 - coalesce((SELECT sum(p.amount) FROM payments_received p
                             WHERE p.enrollment_id = c.enrollment_id AND p.status <> 'returned'), 0) AS earlier
            FROM charged c
        )
        INSERT INTO invoices (invoice_id, enrollment_id, coverage_month, due_date, amount_due, past_due,
                              total_due, binder, issued_on)
        SELECT 'INV-' || upper(substr(md5(random()::text || o.enrollment_id), 1, 12)), o.enrollment_id, $1,
               $2, o.amount, greatest(o.earlier, 0), greatest(o.amount + o.earlier, 0), false, $3
        FROM owed o
        ON CONFLICT (enrollment_id, coverage_month) DO NOTHING
        RETURNING invoice_id
        """,
        coverage_month,
        due_date,
        issued_on,
    )
    return [r["invoice_id"] for r in rows]


async def bills(con: asyncpg.Connection, invoice_ids: Sequence[str]) -> list[Any]:
    """Invoices with what their event names besides the invoice: member, billing account, product."""
    return list(
        await con.fetch(
            """
            SELECT i.invoice_id, i.enrollment_id, i.coverage_month, i.due_date, i.amount_due, i.past_due,
                   i.total_due, e.member_id, e.billing_account, e.product
            FROM invoices i JOIN enrollments e ON e.enrollment_id = i.enrollment_id
            WHERE i.invoice_id = ANY($1::text[])
            ORDER BY i.enrollment_id
            """,
            invoice_ids,
        )
    )


async def cancel_late_binders(con: asyncpg.Connection, today: date) -> list[Any]:
    """R1.10/D3: one statement cancels every pending enrollment whose binder due date has passed without
    the first month paid in full by then (payments counted when accepted, returned ones not at all)."""
    return list(
        await con.fetch(
            """
            WITH cancelled AS (
                UPDATE enrollments e SET status = 'cancelled', termination_reason = 'no_binder',
                       terminated_on = $1, updated_at = now()
                WHERE e.status = 'pending_binder' AND e.binder_due_date < $1
                  AND coalesce((SELECT sum(p.amount) FROM payments_received p
                                WHERE p.enrollment_id = e.enrollment_id AND p.status <> 'returned'
                                  AND p.accepted_on <= e.binder_due_date), 0) < e.monthly_premium
                RETURNING e.*
            ), uncharged AS (
                DELETE FROM charges c USING cancelled x WHERE c.enrollment_id = x.enrollment_id
            )
            SELECT * FROM cancelled
            """,
            today,
        )
    )


async def late_binders(con: asyncpg.Connection, today: date) -> list[Any]:
    """The pending enrollments a roll-forward policy (D3) moves: binder due date passed, not paid in time."""
    return list(
        await con.fetch(
            """
            SELECT e.* FROM enrollments e
            WHERE e.status = 'pending_binder' AND e.binder_due_date < $1
              AND coalesce((SELECT sum(p.amount) FROM payments_received p
                            WHERE p.enrollment_id = e.enrollment_id AND p.status <> 'returned'
                              AND p.accepted_on <= e.binder_due_date), 0) < e.monthly_premium
            FOR UPDATE
            """,
            today,
        )
    )


async def roll_forward(
    con: asyncpg.Connection, enrollment_id: str, old_month: str, new_start: date, new_month: str, due: date
) -> None:
    await con.execute(
        """
        WITH moved AS (
            UPDATE enrollments SET coverage_start = $2, binder_due_date = $3, updated_at = now()
            WHERE enrollment_id = $1 RETURNING monthly_premium
        ), gone AS (
            DELETE FROM charges WHERE enrollment_id = $1 AND coverage_month = $4
        )
        INSERT INTO charges (enrollment_id, coverage_month, amount)
        SELECT $1, $5, monthly_premium FROM moved ON CONFLICT DO NOTHING
        """,
        enrollment_id,
        new_start,
        due,
        old_month,
        new_month,
    )


ACCOUNTS_SQL = """
    SELECT e.*, coalesce(c.months, '{}') AS months, coalesce(c.amounts, '{}') AS amounts,
           coalesce(p.received, 0) AS received,
           n.notice_months, n.notice_levels, n.notice_days, n.notice_pay_bys
    FROM enrollments e
    LEFT JOIN LATERAL (
        SELECT array_agg(coverage_month ORDER BY coverage_month) AS months,
               array_agg(amount ORDER BY coverage_month) AS amounts,
               sum(amount) FILTER (WHERE coverage_month <= $1) AS due_total
        FROM charges WHERE enrollment_id = e.enrollment_id
    ) c ON true
    LEFT JOIN LATERAL (
        SELECT sum(amount) AS received FROM payments_received
        WHERE enrollment_id = e.enrollment_id AND status <> 'returned'
    ) p ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(ladder_month ORDER BY ladder_month, level) AS notice_months,
               array_agg(level ORDER BY ladder_month, level) AS notice_levels,
               array_agg(sent_on ORDER BY ladder_month, level) AS notice_days,
               array_agg(pay_by ORDER BY ladder_month, level) AS notice_pay_bys
        FROM ladder_notices WHERE enrollment_id = e.enrollment_id
    ) n ON true
"""


def account_of(row: Any) -> Account:
    return Account(
        status=row["status"],
        subsidy=row["subsidy"],
        product=row["product"],
        charges=[Charge(m, a) for m, a in zip(row["months"], row["amounts"], strict=True)],
        received=Decimal(row["received"]),
        notices=tuple(
            SentNotice(*n)
            for n in zip(
                row["notice_months"] or (),
                row["notice_levels"] or (),
                row["notice_days"] or (),
                row["notice_pay_bys"] or (),
                strict=True,
            )
        ),
    )


async def accounts_to_assess(
    con: asyncpg.Connection, last_month_due: str, today: date, *, after: str, limit: int
) -> list[Any]:
    """The next `limit` accounts, in enrollment order after `after`, that are active and owe money for a month
    already due, or delinquent with a step due today (`domain.delinquency.review_due`, the same rule); locked.
    Paging by key visits each enrollment once however many pages there are. The first condition reads only
    the enrollment, so PostgreSQL applies it in the scan and sums no money for the accounts it skips."""
    return list(
        await con.fetch(
            ACCOUNTS_SQL
            + """
            WHERE e.enrollment_id > $2
              AND (e.status = 'active'
                   OR (e.status = 'delinquent'
                       AND (e.ladder_month IS NULL
                            OR (e.notice_level = 0 AND e.ladder_month <= $4)
                            OR (e.notice_level > 0 AND (e.notice_pay_by IS NULL OR e.notice_pay_by < $5)))))
              AND (e.status = 'delinquent' OR coalesce(c.due_total, 0) > coalesce(p.received, 0))
            ORDER BY e.enrollment_id
            LIMIT $3
            FOR UPDATE OF e
            """,
            last_month_due,
            after,
            limit,
            month_key(today),
            today,
        )
    )


async def account(con: asyncpg.Connection, enrollment_id: str) -> Any:
    return (await accounts(con, [enrollment_id]))[enrollment_id]


async def accounts(con: asyncpg.Connection, enrollment_ids: Sequence[str]) -> dict[str, Any]:
    """The accounts (enrollment, charges, money received, ladder notices) of several enrollments, locked."""
    rows = await con.fetch(
        ACCOUNTS_SQL + " WHERE e.enrollment_id = ANY($2::text[]) ORDER BY e.enrollment_id FOR UPDATE OF e",
        "0000-00",
        list(enrollment_ids),
    )
    return {r["enrollment_id"]: r for r in rows}


Standing = tuple[str, str, str | None, int, date | None, date | None]
"""(enrollment_id, status, ladder_month, notice_level, notice_pay_by, paid_through): an enrollment's standing
columns as they are to be written."""

LadderNotice = tuple[str, str | None, int, str, date, date]
"""(enrollment_id, ladder_month, level, notice, sent_on, pay_by): one notice of the ladder's history."""


async def save_standings(
    con: asyncpg.Connection, standings: Sequence[Standing], notices: Sequence[LadderNotice]
) -> None:
    """Status, ladder position and paid-through of many enrollments, and the notices sent, in two statements
    (R2.7, R2.8). The enrollment's columns show where it stands; `ladder_notices` is the history."""
    if standings:
        await con.execute(
            """
            UPDATE enrollments e SET status = s.status, ladder_month = s.ladder_month, notice_level = s.notice_level,
                notice_pay_by = s.notice_pay_by, paid_through = s.paid_through, updated_at = now()
            FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::date[], $6::date[])
                AS s(enrollment_id, status, ladder_month, notice_level, notice_pay_by, paid_through)
            WHERE e.enrollment_id = s.enrollment_id
            """,
            *(list(column) for column in zip(*standings, strict=True)),
        )
    if notices:
        await con.execute(
            """
            INSERT INTO ladder_notices (enrollment_id, ladder_month, level, notice, sent_on, pay_by)
            SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::date[], $6::date[])
            ON CONFLICT DO NOTHING
            """,
            *(list(column) for column in zip(*notices, strict=True)),
        )


async def terminate(con: asyncpg.Connection, rows: list[tuple[str, date, str, date, date]]) -> None:
    """R2.3/R2.8: coverage ends at `end_date`; months after it are no longer owed. One batch for all."""
    await con.executemany(
        """
        WITH ended AS (
            UPDATE enrollments SET status = 'terminated', end_date = $2, paid_through = $2,
                termination_reason = $3, terminated_on = $4, reinstate_by = $5, updated_at = now()
            WHERE enrollment_id = $1 RETURNING enrollment_id
        )
        DELETE FROM charges WHERE enrollment_id = $1 AND coverage_month > to_char($2::date, 'YYYY-MM')
        """,
        rows,
    )


async def mark_returned(con: asyncpg.Connection, payment_id: str, returned_on: date) -> Any:
    """D7/R5.18: the payment no longer counts, as if it never happened; None if unknown or already returned."""
    return await con.fetchrow(
        """
        UPDATE payments_received SET status = 'returned', returned_on = $2
        WHERE payment_id = $1 AND status <> 'returned'
        RETURNING enrollment_id, amount, binder, accepted_on
        """,
        payment_id,
        returned_on,
    )


async def cancel_no_binder(con: asyncpg.Connection, enrollment_id: str, today: date, reason: str) -> None:
    """R1.10/D7: never effectuated; money received stays on the ledger as a credit (D3)."""
    await con.execute(
        """
        WITH uncharged AS (DELETE FROM charges WHERE enrollment_id = $1)
        UPDATE enrollments SET status = 'cancelled', termination_reason = $3, terminated_on = $2,
            paid_through = NULL, updated_at = now()
        WHERE enrollment_id = $1
        """,
        enrollment_id,
        today,
        reason,
    )


async def save_reinstatement_request(
    con: asyncpg.Connection | asyncpg.Pool,
    enrollment_id: str,
    requested_on: date,
    requested_by: str,
    months: tuple[str, ...],
    monthly_premium: Decimal,
    amount_required: Decimal,
    pay_by: date,
) -> None:
    await con.execute(
        """
        INSERT INTO reinstatement_requests (enrollment_id, requested_on, requested_by, months, monthly_premium,
                                            amount_required, pay_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (enrollment_id) DO UPDATE SET requested_on = EXCLUDED.requested_on,
            requested_by = EXCLUDED.requested_by, months = EXCLUDED.months,
            monthly_premium = EXCLUDED.monthly_premium, amount_required = EXCLUDED.amount_required,
            pay_by = EXCLUDED.pay_by
        WHERE reinstatement_requests.reinstated_on IS NULL
        """,
        enrollment_id,
        requested_on,
        requested_by,
        list(months),
        monthly_premium,
        amount_required,
        pay_by,
    )


async def open_reinstatement_request(con: asyncpg.Connection, enrollment_id: str) -> Any:
    return await con.fetchrow(
        "SELECT * FROM reinstatement_requests WHERE enrollment_id = $1 AND reinstated_on IS NULL", enrollment_id
    )


async def reinstate(
    con: asyncpg.Connection, enrollment_id: str, months: list[str], premium: Decimal, today: date
) -> None:
    """R2.10: back to active with no gap: the restored months are charged and the request is closed."""
    await con.execute(
        """
        WITH restored AS (
            INSERT INTO charges (enrollment_id, coverage_month, amount)
            SELECT $1, m, $3 FROM unnest($2::text[]) AS m ON CONFLICT DO NOTHING
        ), closed AS (
            UPDATE reinstatement_requests SET reinstated_on = $4 WHERE enrollment_id = $1
        )
        UPDATE enrollments SET status = 'active', end_date = NULL, termination_reason = NULL,
            terminated_on = NULL, reinstate_by = NULL, ladder_month = NULL, notice_level = 0,
            notice_pay_by = NULL, second_notice_on = NULL, updated_at = now()
        WHERE enrollment_id = $1
        """,
        enrollment_id,
        months,
        premium,
        today,
    )


async def change_premium(
    con: asyncpg.Connection,
    enrollment_id: str,
    effective_month: str,
    monthly_premium: Decimal,
    aptc_amount: Decimal,
    subsidy: str | None,
    paid_through: date | None,
) -> None:
    """R3.3/R3.4: the new premium applies from its effective month: to bills from then on and to months
    already charged from then on; the premium in force before is kept as the first change."""
    await con.execute(
        """
        WITH base AS (
            INSERT INTO premium_changes (enrollment_id, effective_month, monthly_premium, aptc_amount)
            SELECT enrollment_id, to_char(coverage_start, 'YYYY-MM'), monthly_premium, aptc_amount
            FROM enrollments WHERE enrollment_id = $1 AND to_char(coverage_start, 'YYYY-MM') < $2
            ON CONFLICT DO NOTHING
        ), changed AS (
            INSERT INTO premium_changes (enrollment_id, effective_month, monthly_premium, aptc_amount)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (enrollment_id, effective_month) DO UPDATE
                SET monthly_premium = EXCLUDED.monthly_premium, aptc_amount = EXCLUDED.aptc_amount
        ), repriced AS (
            UPDATE charges SET amount = $3 WHERE enrollment_id = $1 AND coverage_month >= $2
        )
        UPDATE enrollments SET monthly_premium = $3, aptc_amount = $4, subsidy = coalesce($5, subsidy),
            paid_through = coalesce($6, paid_through), updated_at = now()
        WHERE enrollment_id = $1
        """,
        enrollment_id,
        effective_month,
        monthly_premium,
        aptc_amount,
        subsidy,
        paid_through,
    )


async def end_enrollment(con: asyncpg.Connection, enrollment_id: str, status: str, end_date: date | None) -> None:
    """An upstream cancellation: nothing is owed for months after the end date."""
    await con.execute(
        """
        WITH ended AS (
            UPDATE enrollments SET status = $2, end_date = $3, termination_reason = 'cancelled_upstream',
                updated_at = now()
            WHERE enrollment_id = $1
        )
        DELETE FROM charges WHERE enrollment_id = $1
          AND ($3::date IS NULL OR coverage_month > to_char($3::date, 'YYYY-MM'))
        """,
        enrollment_id,
        status,
        end_date,
    )
