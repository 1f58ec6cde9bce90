"""Coverage's daily work, run once per business date in the transaction that records the date."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any, TypeAlias

import asyncpg
from premiums_common.outbox import Outgoing, envelope_for
from premiums_common.service import Service
from premiums_contracts.events import (
    AccountDelinquent,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
)

from premiums_coverage import repository as repo
from premiums_coverage.domain.billing import bill_terms, is_billing_day
from premiums_coverage.domain.calendar import binder_due_date, month_key
from premiums_coverage.domain.delinquency import last_month_due_by
from premiums_coverage.domain.reinstatement import rolled_forward_start
from premiums_coverage.policy import CoveragePolicy
from premiums_coverage.standing import update_standing

Keyed: TypeAlias = InvoiceIssued | EnrollmentCancelledNoBinder | AccountDelinquent | CoverageTerminated
DAILY_CHUNK = 2_000  # events a daily job builds before it writes them to the outbox


def _monthly_invoice(r: Mapping[str, Any]) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=r["invoice_id"],
        enrollment_id=r["enrollment_id"],
        member_id=r["member_id"],
        coverage_month=r["coverage_month"],
        due_date=r["due_date"],
        amount_due=r["amount_due"],
        past_due=r["past_due"],
        total_due=r["total_due"],
        binder=False,
        billing_account=r["billing_account"],
        product=r["product"],
    )


class DailyWork:
    def __init__(self, service: Service, policy: CoveragePolicy) -> None:
        self.service = service
        self.policy = policy

    def _out(self, event: Keyed) -> Outgoing:
        return Outgoing(event, envelope_for(event, source=self.service.source, key=event.enrollment_id))

    async def monthly_bill(self, con: asyncpg.Connection, today: date) -> AsyncIterator[list[Outgoing]]:
        """R1.4/N3: on the 1st, next month's charge and bill for every active or delinquent enrollment.

        The invoices come `DAILY_CHUNK` at a time, so memory does not grow with the number of enrollments billed."""
        if not is_billing_day(today):
            return
        coverage_month, due = bill_terms(today)
        issued = await repo.bill_month(con, coverage_month, due, today)
        for start in range(0, len(issued), DAILY_CHUNK):
            bills = await repo.bills(con, issued[start : start + DAILY_CHUNK])
            yield [self._out(_monthly_invoice(r)) for r in bills]

    async def late_binders(self, con: asyncpg.Connection, today: date) -> list[Outgoing]:
        """R1.10/D3: a binder not paid in full by its due date: cancelled (or, by policy, moved a month)."""
        if self.policy.late_binder == "roll_forward":
            return await self._roll_forward(con, today)
        return [
            self._out(
                EnrollmentCancelledNoBinder(
                    enrollment_id=r["enrollment_id"],
                    member_id=r["member_id"],
                    coverage_start=r["coverage_start"],
                    reason="binder_not_paid_in_full_by_due_date",
                )
            )
            for r in await repo.cancel_late_binders(con, today)
        ]

    async def _roll_forward(self, con: asyncpg.Connection, today: date) -> list[Outgoing]:
        out: list[Outgoing] = []
        for r in await repo.late_binders(con, today):
            start = rolled_forward_start(r["coverage_start"], r["coverage_end"])
            if start is None:
                out.extend(await self._cancel_one(con, r, today))
                continue
            due = binder_due_date(start)
            await repo.roll_forward(
                con, r["enrollment_id"], month_key(r["coverage_start"]), start, month_key(start), due
            )
            invoice = InvoiceIssued(
                invoice_id=f"INV-{r['enrollment_id'][-6:]}-{month_key(start)}",
                enrollment_id=r["enrollment_id"],
                member_id=r["member_id"],
                coverage_month=month_key(start),
                due_date=due,
                amount_due=r["monthly_premium"],
                past_due=r["monthly_premium"] * 0,
                total_due=r["monthly_premium"],
                binder=True,
                billing_account=r["billing_account"],
                product=r["product"],
            )
            await repo.insert_invoice(con, invoice, issued_on=today)
            out.append(self._out(invoice))
        return out

    async def _cancel_one(self, con: asyncpg.Connection, r: object, today: date) -> list[Outgoing]:
        row = dict(r)  # type: ignore[call-overload]
        await repo.cancel_no_binder(con, row["enrollment_id"], today, "no_binder")
        event = EnrollmentCancelledNoBinder(
            enrollment_id=row["enrollment_id"],
            member_id=row["member_id"],
            coverage_start=row["coverage_start"],
            reason="binder_not_paid_in_full_by_due_date",
        )
        return [self._out(event)]

    async def delinquency(self, con: asyncpg.Connection, today: date) -> AsyncIterator[list[Outgoing]]:
        """R2.7/R2.8: every account owing money for a month already due moves along its ladder.

        A delinquent account whose next step is not due today is not read (`review_due`). `DAILY_CHUNK`
        accounts at a time, each chunk's notices yielded as it is assessed, so memory does not grow with the
        number of members who did not pay."""
        last_due, after = last_month_due_by(today), ""
        while rows := await repo.accounts_to_assess(con, last_due, today, after=after, limit=DAILY_CHUNK):
            events = await update_standing(con, rows, today, self.policy.threshold_percent)
            yield [self._out(e) for e in events]
            after = rows[-1]["enrollment_id"]
