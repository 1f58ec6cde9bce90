"""Coverage use cases: each turns one incoming event into state changes and the events they cause."""

from __future__ import annotations

import uuid

import asyncpg
from premiums_common.consumer import Incoming, Rejected
from premiums_common.outbox import Outgoing, envelope_for
from premiums_common.service import Service
from premiums_contracts.events import (
    CoverageActivated,
    EnrollmentSubmitted,
    Event,
    InvoiceIssued,
    PaymentApplied,
    PaymentCleared,
    PaymentSubmitted,
)

from premiums_coverage import repository as repo
from premiums_coverage.domain.calendar import binder_due_date, month_key
from premiums_coverage.domain.effectuation import activates_at_once, binder_cleared
from premiums_coverage.domain.ledger import ZERO, allocate, balance


class CoverageHandlers:
    def __init__(self, service: Service) -> None:
        self.service = service

    def _out(self, event: Event, key: str, cause: Incoming) -> Outgoing:
        return Outgoing(event, envelope_for(event, source=self.service.source, key=key, cause=cause.envelope))

    async def enrollment_submitted(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """R1.9/D2: a new enrollment waits for its binder; D4: a $0 premium is active at once."""
        e: EnrollmentSubmitted = incoming.event
        due = binder_due_date(e.coverage_start, e.binder_due_date)
        if activates_at_once(e.monthly_premium):
            if await repo.insert_enrollment(con, e, due, "active"):
                activated = CoverageActivated(
                    enrollment_id=e.enrollment_id,
                    member_id=e.member_id,
                    coverage_start=e.coverage_start,
                    paid_through=e.coverage_end,
                    payment_id=None,
                    plan_name=e.plan_name,
                    product=e.product,
                )
                return [self._out(activated, activated.enrollment_id, incoming)]
            return []
        if not await repo.insert_enrollment(con, e, due, "pending_binder"):
            return []
        first_month = month_key(e.coverage_start)
        await repo.add_charge(con, e.enrollment_id, first_month, e.monthly_premium)
        issued = InvoiceIssued(
            invoice_id=f"INV-{uuid.uuid4().hex[:12].upper()}",
            enrollment_id=e.enrollment_id,
            member_id=e.member_id,
            coverage_month=first_month,
            due_date=due,
            amount_due=e.monthly_premium,
            past_due=ZERO,
            total_due=e.monthly_premium,
            binder=True,
            billing_account=e.billing_account,
            product=e.product,
        )
        await repo.insert_invoice(con, issued, issued_on=self.service.clock.today())
        return [self._out(issued, issued.enrollment_id, incoming)]

    async def payment_submitted(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """D1: a payment counts from acceptance; R2.12/D6: it pays the oldest open month first."""
        p: PaymentSubmitted = incoming.event
        enrollment = await repo.enrollment(con, p.enrollment_id, lock=True)
        if enrollment is None:
            raise Rejected(f"payment {p.payment_id} is for unknown enrollment {p.enrollment_id}")
        if not await repo.record_payment(con, p.payment_id, p.enrollment_id, p.amount, p.business_date):
            return []
        charges = await repo.charges(con, p.enrollment_id)
        received = await repo.received_total(con, p.enrollment_id)
        allocation = allocate(charges, received)
        applied = PaymentApplied(
            payment_id=p.payment_id,
            enrollment_id=p.enrollment_id,
            member_id=p.member_id,
            amount=p.amount,
            months_paid=list(allocation.months_paid),
            paid_through=allocation.paid_through,
            balance=balance(charges, received),
        )
        return [self._out(applied, applied.enrollment_id, incoming)]

    async def payment_cleared(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """R1.9/R5.17: a binder paid in full by its due date activates coverage once the money clears."""
        c: PaymentCleared = incoming.event
        enrollment = await repo.enrollment(con, c.enrollment_id, lock=True)
        if enrollment is None:
            raise Rejected(f"cleared payment {c.payment_id} is for unknown enrollment {c.enrollment_id}")
        if not await repo.mark_cleared(con, c.payment_id, c.cleared_on):
            return []
        if enrollment["status"] != "pending_binder":
            return []
        binder_amount = enrollment["monthly_premium"]
        if not binder_cleared(
            binder_amount, enrollment["binder_due_date"], await repo.binder_payments(con, c.enrollment_id)
        ):
            return []
        allocation = allocate(await repo.charges(con, c.enrollment_id), await repo.received_total(con, c.enrollment_id))
        await repo.set_status(con, c.enrollment_id, "active", allocation.paid_through)
        activated = CoverageActivated(
            enrollment_id=c.enrollment_id,
            member_id=enrollment["member_id"],
            coverage_start=enrollment["coverage_start"],
            paid_through=allocation.paid_through or enrollment["coverage_start"],
            payment_id=c.payment_id,
            plan_name=enrollment["plan_name"],
            product=enrollment["product"],
        )
        return [self._out(activated, activated.enrollment_id, incoming)]
