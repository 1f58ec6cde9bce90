"""Coverage use cases: each turns one incoming event into state changes and the events they cause."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg
from premiums_common.consumer import Incoming, Rejected, handling
from premiums_common.outbox import Outgoing, envelope_for
from premiums_common.service import Service
from premiums_contracts.events import (
    CoverageActivated,
    EnrollmentCancelled,
    EnrollmentCancelledNoBinder,
    EnrollmentSubmitted,
    Event,
    InvoiceIssued,
    PaymentApplied,
    PaymentCleared,
    PaymentReturned,
    PaymentSubmitted,
    PremiumChanged,
)

from premiums_coverage import repository as repo
from premiums_coverage.domain.billing import already_billed
from premiums_coverage.domain.calendar import binder_due_date, month_key, month_start, monthly_due_date
from premiums_coverage.domain.effectuation import (
    activates_at_once,
    binder_cleared,
    binder_paid_on_time,
    binder_return_cancels,
)
from premiums_coverage.domain.ledger import ZERO, allocate, balance
from premiums_coverage.policy import CoveragePolicy
from premiums_coverage.standing import reinstate_if_paid, update_standing

CONSUMER = "coverage"


class CoverageHandlers:
    def __init__(self, service: Service, policy: CoveragePolicy | None = None) -> None:
        self.service = service
        self.policy = policy or CoveragePolicy()

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
        if e.renewal_of is not None:
            return await self._renewal(con, e, incoming)
        if not await repo.insert_enrollment(con, e, due, "pending_binder"):
            return []
        return [await self._first_invoice(con, e, due, incoming, binder=True)]

    async def _renewal(self, con: asyncpg.Connection, e: EnrollmentSubmitted, incoming: Incoming) -> list[Outgoing]:
        """R1.14: a January renewal is no new binder: it continues as active, billed like any month (R1.4),
        so an unpaid January makes it delinquent (R2.7/R2.8), never cancelled. Submitted after its first
        month's bill day, it gets that bill at once."""
        due = monthly_due_date(e.coverage_start)
        if not await repo.insert_enrollment(con, e, due, "active"):
            return []
        if not already_billed(e.coverage_start, self.service.clock.today()):
            return []
        return [await self._first_invoice(con, e, due, incoming, binder=False)]

    async def _first_invoice(
        self, con: asyncpg.Connection, e: EnrollmentSubmitted, due: date, incoming: Incoming, *, binder: bool
    ) -> Outgoing:
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
            binder=binder,
            billing_account=e.billing_account,
            product=e.product,
        )
        await repo.insert_invoice(con, issued, issued_on=self.service.clock.today())
        return self._out(issued, issued.enrollment_id, incoming)

    async def payment_submitted(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """D1: a payment counts from acceptance; R2.12/D6: it pays the oldest open month first."""
        p: PaymentSubmitted = incoming.event
        enrollment = await repo.enrollment(con, p.enrollment_id, lock=True)
        if enrollment is None:
            raise Rejected(f"payment {p.payment_id} is for unknown enrollment {p.enrollment_id}")
        binder = enrollment["status"] == "pending_binder"
        if not await repo.record_payment(con, p.payment_id, p.enrollment_id, p.amount, p.business_date, binder=binder):
            return []
        applied = _applied(p, await repo.ledger(con, p.enrollment_id))
        caused = [self._out(applied, applied.enrollment_id, incoming)]
        return caused + await self._after_money_moved(con, enrollment, p.business_date, incoming)

    async def payments_submitted(self, con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
        """`payment_submitted` for a run of payments of distinct enrollments (a draft day, a busy portal) in five
        statements. A payment to a terminated enrollment (a possible reinstatement, R2.10) goes through
        `payment_submitted` itself; an unknown enrollment sends the run back to it, one by one."""
        if not _one_per_enrollment(run):
            return await self._one_by_one(con, run, self.payment_submitted)
        payments: dict[str, Incoming] = {i.event.enrollment_id: i for i in run}
        enrollments = await repo.enrollments_locked(con, list(payments))
        if unknown := [key for key in payments if key not in enrollments]:
            raise Rejected(f"payments for unknown enrollments, e.g. {unknown[0]}")
        caused: dict[str, list[Outgoing]] = {key: [] for key in payments}
        for key in [k for k in payments if enrollments[k]["status"] == "terminated"]:
            caused[key] += await self.payment_submitted(con, payments.pop(key))
        status = {key: enrollments[key]["status"] for key in payments}
        new = await repo.record_payments(
            con,
            [
                (i.event.payment_id, key, i.event.amount, i.event.business_date, status[key] == "pending_binder")
                for key, i in payments.items()
            ],
        )
        fresh = {key: i for key, i in payments.items() if i.event.payment_id in new}
        money = await repo.ledgers(con, list(fresh)) if fresh else {}
        for key, i in fresh.items():
            with handling(CONSUMER, i):
                caused[key].append(self._out(_applied(i.event, money[key]), key, i))
        standing = [key for key in fresh if status[key] in ("active", "delinquent")]
        rows = await repo.accounts(con, standing) if standing else {}
        on_day: dict[date, list[str]] = {}
        for key in standing:
            on_day.setdefault(max(self.service.clock.today(), fresh[key].event.business_date), []).append(key)
        for day, keys in on_day.items():
            for event in await update_standing(con, [rows[k] for k in keys], day, self.policy.threshold_percent):
                with handling(CONSUMER, fresh[event.enrollment_id]):
                    caused[event.enrollment_id].append(
                        self._out(event, event.enrollment_id, fresh[event.enrollment_id])
                    )
        return [o for i in run for o in caused[i.event.enrollment_id]]

    async def _one_by_one(
        self, con: asyncpg.Connection, run: Sequence[Incoming], handler: Callable[..., Awaitable[list[Outgoing]]]
    ) -> list[Outgoing]:
        out: list[Outgoing] = []
        for incoming in run:
            with handling(CONSUMER, incoming):
                out += await handler(con, incoming)
        return out

    async def _after_money_moved(
        self, con: asyncpg.Connection, enrollment: Any, day: date, incoming: Incoming
    ) -> list[Outgoing]:
        """R2.4: paying the whole past-due balance cures a delinquent account; D7: a return can make it
        delinquent again; R2.10: a terminated member's payments may complete a reinstatement."""
        if enrollment["status"] in ("active", "delinquent"):
            return await self._reassess(
                con, enrollment["enrollment_id"], max(self.service.clock.today(), day), incoming
            )
        if enrollment["status"] == "terminated":
            return await self._maybe_reinstate(con, enrollment, day, incoming)
        return []

    async def _reassess(
        self, con: asyncpg.Connection, enrollment_id: str, day: date, incoming: Incoming
    ) -> list[Outgoing]:
        """The account's standing brought up to date on `day` (R2.4, R2.7, D7), with the notices it causes."""
        row = await repo.account(con, enrollment_id)
        events = await update_standing(con, [row], day, self.policy.threshold_percent)
        return [self._out(e, enrollment_id, incoming) for e in events]

    async def _maybe_reinstate(
        self, con: asyncpg.Connection, enrollment: Any, day: date, incoming: Incoming
    ) -> list[Outgoing]:
        reinstated = await reinstate_if_paid(con, enrollment, day)
        return [self._out(reinstated, reinstated.enrollment_id, incoming)] if reinstated else []

    async def payment_returned(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """D7/R5.18: a returned payment is reversed as of its original due date and the standing recomputed;
        a returned binder cancels the enrollment, never effectuated, even after activation."""
        r: PaymentReturned = incoming.event
        enrollment = await repo.enrollment(con, r.enrollment_id, lock=True)
        if enrollment is None:
            raise Rejected(f"returned payment {r.payment_id} is for unknown enrollment {r.enrollment_id}")
        returned = await repo.mark_returned(con, r.payment_id, r.returned_on)
        if returned is None:
            return []
        today = max(self.service.clock.today(), r.returned_on)
        if returned["binder"]:
            still_paid = binder_paid_on_time(
                enrollment["monthly_premium"],
                enrollment["binder_due_date"],
                await repo.binder_payments(con, r.enrollment_id),
            )
            if binder_return_cancels(enrollment["status"], enrollment["binder_due_date"], today, still_paid):
                await repo.cancel_no_binder(con, r.enrollment_id, today, "binder_returned")
                cancelled = EnrollmentCancelledNoBinder(
                    enrollment_id=r.enrollment_id,
                    member_id=enrollment["member_id"],
                    coverage_start=enrollment["coverage_start"],
                    reason=f"binder_returned_{r.return_code}",
                )
                return [self._out(cancelled, r.enrollment_id, incoming)]
        return await self._after_money_moved(con, enrollment, today, incoming)

    async def enrollment_cancelled(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """The upstream system ends an enrollment: before it starts (or while it waits for its binder) it is
        cancelled; otherwise it ends on the effective date and later months are not owed."""
        c: EnrollmentCancelled = incoming.event
        enrollment = await repo.enrollment(con, c.enrollment_id, lock=True)
        if enrollment is None:
            raise Rejected(f"cancellation for unknown enrollment {c.enrollment_id}")
        if enrollment["status"] in ("cancelled", "terminated"):
            return []
        effective = c.effective_date
        if enrollment["status"] == "pending_binder" or effective is None or effective < enrollment["coverage_start"]:
            await repo.end_enrollment(con, c.enrollment_id, "cancelled", None)
        else:
            await repo.end_enrollment(con, c.enrollment_id, "terminated", effective)
        return []

    async def premium_changed(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """R3.3/R3.4: the premium applies from its effective month; a $0 member whose premium becomes positive
        starts normal billing with the next bill and counts as paid up to the effective month (D4)."""
        c: PremiumChanged = incoming.event
        enrollment = await repo.enrollment(con, c.enrollment_id, lock=True)
        if enrollment is None:
            raise Rejected(f"premium change for unknown enrollment {c.enrollment_id}")
        through = None
        if enrollment["monthly_premium"] == 0 and c.monthly_premium > 0:
            through = month_start(c.effective_month) - timedelta(days=1)
        await repo.change_premium(
            con, c.enrollment_id, c.effective_month, c.monthly_premium, c.aptc_amount, c.subsidy, through
        )
        if enrollment["status"] != "delinquent":
            return []
        # Months already charged were repriced: a delinquent account is assessed now, as when money moves,
        # since the daily job reads it again only when its next step is due (`review_due`).
        return await self._reassess(con, c.enrollment_id, self.service.clock.today(), incoming)

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
        activation = _activation(c, enrollment, await repo.ledger(con, c.enrollment_id))
        if activation is None:
            return []
        paid_through, activated = activation
        await repo.set_status(con, c.enrollment_id, "active", paid_through)
        return [self._out(activated, activated.enrollment_id, incoming)]

    async def payments_cleared(self, con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
        """`payment_cleared` for a run of cleared payments of distinct enrollments (the clearing day), in four
        statements for the whole run. Any rejection sends the run back to `payment_cleared`, one by one."""
        if not _one_per_enrollment(run):
            return await self._one_by_one(con, run, self.payment_cleared)
        cleared: list[tuple[Incoming, PaymentCleared]] = [(i, i.event) for i in run]
        enrollments = await repo.enrollments_locked(con, [c.enrollment_id for _, c in cleared])
        if unknown := [c.enrollment_id for _, c in cleared if c.enrollment_id not in enrollments]:
            raise Rejected(f"cleared payments for unknown enrollments, e.g. {unknown[0]}")
        newly = await repo.mark_cleared_many(con, [(c.payment_id, c.cleared_on) for _, c in cleared])
        waiting = [
            (i, c)
            for i, c in cleared
            if c.payment_id in newly and enrollments[c.enrollment_id]["status"] == "pending_binder"
        ]
        money = await repo.ledgers(con, [c.enrollment_id for _, c in waiting]) if waiting else {}
        activations = [
            (i, activation)
            for i, c in waiting
            if (activation := _activation(c, enrollments[c.enrollment_id], money[c.enrollment_id])) is not None
        ]
        if not activations:
            return []
        await repo.activate_many(con, [(a.enrollment_id, paid_through) for _, (paid_through, a) in activations])
        out = []
        for i, (_, activated) in activations:
            with handling(CONSUMER, i):  # each activation continues its own payment's trace
                out.append(self._out(activated, activated.enrollment_id, i))
        return out


def _one_per_enrollment(run: Sequence[Incoming]) -> bool:
    """A run has one event per record key; a producer that keyed payment events by anything but the
    enrollment could still put two of one enrollment in a run, and those are handled one by one."""
    return len({i.event.enrollment_id for i in run}) == len(run)


def _applied(p: PaymentSubmitted, money: repo.Ledger) -> PaymentApplied:
    """R2.12/D6: what the payment paid, oldest open month first, and the balance after it."""
    allocation = allocate(money.charges, money.received)
    return PaymentApplied(
        payment_id=p.payment_id,
        enrollment_id=p.enrollment_id,
        member_id=p.member_id,
        amount=p.amount,
        months_paid=list(allocation.months_paid),
        paid_through=allocation.paid_through,
        balance=balance(money.charges, money.received),
    )


def _activation(c: PaymentCleared, enrollment: Any, money: repo.Ledger) -> tuple[date | None, CoverageActivated] | None:
    """R1.9: the binder cleared in full by its due date: the enrollment's paid-through date and its event."""
    if not binder_cleared(enrollment["monthly_premium"], enrollment["binder_due_date"], money.payments):
        return None
    allocation = allocate(money.charges, money.received)
    return allocation.paid_through, CoverageActivated(
        enrollment_id=c.enrollment_id,
        member_id=enrollment["member_id"],
        coverage_start=enrollment["coverage_start"],
        paid_through=allocation.paid_through or enrollment["coverage_start"],
        payment_id=c.payment_id,
        plan_name=enrollment["plan_name"],
        product=enrollment["product"],
    )
