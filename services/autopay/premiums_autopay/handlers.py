"""autopay's use cases: follow what each enrollment owes, keep mandates, draft on the draft day, act on returns.

Kafka handlers and the daily job are thin: each reads state, asks a rule in `domain/`, writes, and returns
the events it causes (stored in the outbox in the same transaction).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from premiums_common.clock import BusinessClock
from premiums_common.consumer import Incoming
from premiums_common.database import custom_plans
from premiums_common.outbox import Outgoing, envelope_for
from premiums_contracts import Envelope, Event
from premiums_contracts.events import (
    AutopayCancelled,
    AutopayChanged,
    AutopayDraftScheduled,
    AutopayEnrolled,
    AutopaySuspended,
    BankAccountChanged,
    CoverageActivated,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
    PaymentReturned,
    RequestPayment,
)

from premiums_autopay import repository as repo
from premiums_autopay.domain.drafts import (
    amount_changed,
    binder_draft_date,
    draft_amount,
    draft_date,
    draft_date_after_notice,
    first_draft_date,
)
from premiums_autopay.domain.mandates import Channel, initial_status, sec_code_for
from premiums_autopay.domain.returns import (
    REINITIATION_WINDOW_DAYS,
    ReturnAction,
    action_for,
    plain_reason,
    retry_decision,
)

ORIGIN = "autopay"
COVERAGE_STATUS: dict[type[Event], str] = {
    CoverageActivated: "active",
    CoverageReinstated: "active",
    CoverageTerminated: "terminated",
    EnrollmentCancelledNoBinder: "cancelled",
}


@dataclass(frozen=True)
class MandateRequest:
    enrollment_id: str
    member_id: str
    instrument_token: str
    account_last4: str
    account_type: str | None
    validated: bool
    channel: Channel
    authorization_text_version: str
    authorized_by: str
    ip_address: str | None
    user_agent: str | None


class Autopay:
    def __init__(self, source: str, clock: BusinessClock, draft_day: int) -> None:
        self.source = source
        self.clock = clock
        self.draft_day = draft_day

    def _out(self, event: Event, key: str, cause: Envelope | None = None) -> Outgoing:
        return Outgoing(event, envelope_for(event, source=self.source, key=key, cause=cause))

    # -- billing, from coverage.events and payments.events ------------------------------------------

    async def invoice_issued(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """N12/D13: a monthly bill for an enrollment on AutoPay announces its draft (amount, change, date)."""
        e: InvoiceIssued = incoming.event
        draft_on, notice = self._announcement(e, await repo.live_mandate(con, e.enrollment_id))
        if not await repo.record_invoice(con, e, draft_on) or notice is None:
            return []  # not on AutoPay, or the same month billed again: announced once already
        return [self._out(notice, e.enrollment_id, incoming.envelope)]

    async def invoices_issued(self, con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
        """`invoice_issued` for a bill day's run of invoices: two statements for the whole run."""
        mandates = await repo.live_mandates(con, [i.event.enrollment_id for i in run])
        planned = [(i, *self._announcement(i.event, mandates.get(i.event.enrollment_id))) for i in run]
        recorded = await repo.record_invoices(con, [(i.event, draft_on) for i, draft_on, _ in planned])
        return [
            self._out(notice, i.event.enrollment_id, i.envelope)
            for i, _, notice in planned
            if notice is not None and i.event.enrollment_id in recorded
        ]

    def _announcement(self, e: InvoiceIssued, mandate: Any) -> tuple[date, AutopayDraftScheduled | None]:
        """The bill's draft date, and the announcement of its draft when the enrollment is on AutoPay."""
        planned = draft_date(e.due_date, self.draft_day)
        amount = draft_amount(e.total_due, Decimal("0"))
        if e.binder or mandate is None or mandate["status"] != "active" or amount <= 0:
            return planned, None
        previous = mandate["last_draft_amount"]
        changed = amount_changed(amount, previous)
        on = draft_date_after_notice(planned, self.clock.today(), changed)
        return on, AutopayDraftScheduled(
            mandate_id=mandate["mandate_id"],
            enrollment_id=e.enrollment_id,
            coverage_month=e.coverage_month,
            draft_date=on,
            amount=amount,
            amount_changed=changed,
            previous_amount=previous if changed else None,
        )

    async def payment_submitted(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        return await self.payments_submitted(con, [incoming])

    async def payments_submitted(self, con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
        """Money towards each current bill, and each draft that became a payment: two statements for a run."""
        paid: dict[str, Decimal] = defaultdict(Decimal)
        for incoming in run:
            paid[incoming.event.enrollment_id] += incoming.event.amount
        await repo.add_paid_many(con, list(paid.items()))
        if drafts := [(i.event.request_id, i.event.payment_id) for i in run if i.event.request_id]:
            await repo.drafts_submitted(con, drafts)
        return []

    async def coverage_changed(self, con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
        """Coverage's status, as drafts need it, for a run of one event type (`COVERAGE_STATUS`): drafts stop
        once coverage ends, and the mandate stays, so reinstatement resumes them. One statement for a run."""
        status = COVERAGE_STATUS[type(run[0].event)]
        await repo.set_coverage_statuses(con, [i.event.enrollment_id for i in run], status)
        return []

    async def coverage_event(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """`coverage_changed` for one event."""
        return await self.coverage_changed(con, [incoming])

    async def account_delinquent(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        return await self.accounts_delinquent(con, [incoming])

    async def accounts_delinquent(self, con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
        """The delinquency window an automatic retry must fall inside (D10), for a run in one statement."""
        await repo.set_delinquency_deadlines(con, [(i.event.enrollment_id, i.event.pay_by) for i in run])
        return []

    # -- returns and NOCs ---------------------------------------------------------------------------

    async def payment_returned(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """D10/R5.9–R5.11: retry an R01/R09 draft once; suspend, revoke or flag the mandate for the others."""
        e: PaymentReturned = incoming.event
        await repo.add_paid(con, e.enrollment_id, -e.amount)
        draft = await repo.draft_returned(con, e.payment_id, e.return_code)
        if draft is None:
            return []  # not an AutoPay draft (or a duplicate return)
        mandate = await repo.mandate(con, draft["mandate_id"], lock=True)
        assert mandate is not None
        action = action_for(e.return_code)
        if action is ReturnAction.RETRY:
            await self._maybe_retry(con, e, draft)
            return []
        if mandate["status"] not in repo.LIVE or mandate["instrument_token"] != draft["instrument_token"]:
            return []  # the member already replaced the account this draft used
        reason = f"{e.return_code}: {plain_reason(e.return_code)}"
        common = {
            "mandate_id": mandate["mandate_id"],
            "enrollment_id": e.enrollment_id,
            "member_id": mandate["member_id"],
        }
        if action is ReturnAction.SUSPEND:
            await repo.end_mandate(con, mandate["mandate_id"], "suspended", reason)
            event: Event = AutopaySuspended(**common, return_code=e.return_code, reason=reason)
            return [self._out(event, e.enrollment_id, incoming.envelope)]
        if action is ReturnAction.REVOKE:
            await repo.end_mandate(con, mandate["mandate_id"], "revoked", reason)
            return [self._out(AutopayCancelled(**common, reason=reason), e.enrollment_id, incoming.envelope)]
        if action is ReturnAction.FLAG:
            await repo.flag_mandate(con, mandate["mandate_id"], reason)
        return []

    async def _maybe_retry(self, con: asyncpg.Connection, e: PaymentReturned, draft: asyncpg.Record) -> None:
        billing = await repo.billing(con, e.enrollment_id)
        since = e.returned_on - timedelta(days=REINITIATION_WINDOW_DAYS)
        decision = retry_decision(
            return_code=e.return_code,
            returned_on=e.returned_on,
            is_binder=draft["kind"] == "binder",
            is_reinitiation=draft["attempt"] > 0,
            coverage_ended=billing is not None and billing["status"] in repo.COVERAGE_ENDED,
            pay_by=billing["delinquent_pay_by"] if billing is not None else None,
            reinitiations_in_window=await repo.reinitiations_since(con, e.enrollment_id, since),
        )
        if not decision.retry or decision.on is None:
            return
        await repo.schedule_draft(
            con,
            {
                **{k: draft[k] for k in ("mandate_id", "enrollment_id", "coverage_month", "amount")},
                **{k: draft[k] for k in ("instrument_token", "sec_code", "payment_type")},
                "draft_id": _draft_id(),
                "attempt": 1,
                "kind": "retry",
                "draft_on": decision.on,
                "reinitiation_of": e.payment_id,
            },
        )

    async def bank_account_changed(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """R5.14: a Notification of Change updates every mandate on that account before its next draft."""
        e: BankAccountChanged = incoming.event
        changed = await repo.apply_notification_of_change(con, e.instrument_token, e.account_last4, e.account_type)
        reason = f"your bank updated your account details (notification of change {e.change_code})"
        return [
            self._out(
                AutopayChanged(
                    mandate_id=m["mandate_id"],
                    enrollment_id=m["enrollment_id"],
                    member_id=m["member_id"],
                    account_last4=m["account_last4"],
                    reason=reason,
                    account_type=_account_type(m["account_type"]),
                ),
                m["enrollment_id"],
                incoming.envelope,
            )
            for m in changed
        ]

    # -- the draft day ------------------------------------------------------------------------------

    async def draft_day_job(self, con: asyncpg.Connection, business_date: date) -> AsyncIterator[list[Outgoing]]:
        """D9/R4.4: monthly drafts due today, a page of mandates at a time (`repo.DRAFT_PAGE`), so memory does not
        grow with the members on AutoPay; then binder drafts and retries whose date came."""
        after = ""
        await custom_plans(con)
        while True:
            drafts, page_end = await repo.claim_monthly_drafts(con, business_date, after=after, limit=repo.DRAFT_PAGE)
            if page_end is None:
                break
            yield [self._out(_request_for(r), r["enrollment_id"]) for r in drafts]
            after = page_end
        released = await repo.release_scheduled_drafts(con, business_date)
        yield [self._out(_request_for(r), r["enrollment_id"]) for r in released if r["status"] == "requested"]

    # -- mandates, from the HTTP API ----------------------------------------------------------------

    async def set_up(self, con: asyncpg.Connection, req: MandateRequest) -> tuple[dict[str, Any], list[Outgoing]]:
        """R4.3/R4.5: one live mandate per enrollment. A second set-up changes the live one (for the next
        draft) and re-authorizes it; a suspended mandate given new details becomes active again."""
        sec_code, payment_type = sec_code_for(req.channel)
        status = initial_status(req.validated)
        details = {
            "instrument_token": req.instrument_token,
            "account_last4": req.account_last4,
            "account_type": req.account_type,
            "channel": req.channel,
            "sec_code": sec_code,
            "payment_type": payment_type,
            "status": status,
        }
        authorized_at = self.clock.now()
        account_type = _account_type(req.account_type)
        existing = await repo.live_mandate(con, req.enrollment_id, lock=True)
        outgoing: list[Outgoing] = []
        if existing is None:
            mandate_id = f"mdt_{uuid.uuid4().hex}"
            row = {**details, "mandate_id": mandate_id, "enrollment_id": req.enrollment_id}
            await repo.insert_mandate(con, {**row, "member_id": req.member_id, "draft_day": self.draft_day})
            event: Event = AutopayEnrolled(
                mandate_id=mandate_id,
                enrollment_id=req.enrollment_id,
                member_id=req.member_id,
                account_last4=req.account_last4,
                draft_day=self.draft_day,
                account_type=account_type,
                sec_code=sec_code,
                authorization_text_version=req.authorization_text_version,
                authorized_at=authorized_at,
            )
        else:
            mandate_id = existing["mandate_id"]
            await repo.change_instrument(con, mandate_id, details)
            event = AutopayChanged(
                mandate_id=mandate_id,
                enrollment_id=req.enrollment_id,
                member_id=req.member_id,
                account_last4=req.account_last4,
                reason="you changed the bank account AutoPay uses; it applies from the next draft",
                account_type=account_type,
            )
        outgoing.append(self._out(event, req.enrollment_id))
        authorization = {
            "authorization_text_version": req.authorization_text_version,
            "authorized_at": authorized_at,
            "authorized_by": req.authorized_by,
            "channel": req.channel,
            "sec_code": sec_code,
            "instrument_token": req.instrument_token,
            "account_last4": req.account_last4,
            "ip_address": req.ip_address,
            "user_agent": req.user_agent,
        }
        await repo.record_authorization(con, mandate_id, authorization)
        if status == "active" and existing is None:
            outgoing.extend(await self._first_draft(con, mandate_id, req, sec_code, payment_type))
        mandate = await repo.mandate(con, mandate_id)
        assert mandate is not None
        return view(mandate, authorization), outgoing

    async def _first_draft(
        self, con: asyncpg.Connection, mandate_id: str, req: MandateRequest, sec_code: str, payment_type: str
    ) -> list[Outgoing]:
        """R4.6: set up while the binder is pending, AutoPay drafts it on the next business date.

        Set up with a monthly bill already open, the member is told when it will be drafted (D13).
        """
        billing = await repo.billing(con, req.enrollment_id)
        if billing is None or billing["status"] in repo.COVERAGE_ENDED:
            return []
        amount = draft_amount(billing["total_due"], billing["paid"])
        today = self.clock.today()
        if amount <= 0 or billing["due_date"] < today:
            return []
        if billing["binder"]:
            on = binder_draft_date(today)
            await repo.schedule_draft(
                con,
                {
                    "draft_id": _draft_id(),
                    "mandate_id": mandate_id,
                    "enrollment_id": req.enrollment_id,
                    "coverage_month": billing["coverage_month"],
                    "attempt": 0,
                    "kind": "binder",
                    "amount": amount,
                    "draft_on": on,
                    "instrument_token": req.instrument_token,
                    "sec_code": sec_code,
                    "payment_type": payment_type,
                },
            )
            await repo.remember_announced_amount(con, mandate_id, amount)
        else:
            on = first_draft_date(billing["draft_on"], today)
            if on > billing["due_date"]:
                return []  # too late to draft this bill before it is due: the member pays it once by hand
        notice = AutopayDraftScheduled(
            mandate_id=mandate_id,
            enrollment_id=req.enrollment_id,
            coverage_month=billing["coverage_month"],
            draft_date=on,
            amount=amount,
            amount_changed=False,
        )
        return [self._out(notice, req.enrollment_id)]

    async def cancel(self, con: asyncpg.Connection, mandate: asyncpg.Record, by: str) -> list[Outgoing]:
        """N11: the member (or staff) revokes AutoPay; nothing scheduled is drafted any more."""
        reason = "cancelled at the member's request" if by == mandate["member_id"] else "cancelled by staff"
        await repo.end_mandate(con, mandate["mandate_id"], "cancelled", reason)
        event = AutopayCancelled(
            mandate_id=mandate["mandate_id"],
            enrollment_id=mandate["enrollment_id"],
            member_id=mandate["member_id"],
            reason=reason,
        )
        return [self._out(event, mandate["enrollment_id"])]


def _account_type(value: str | None) -> Literal["checking", "savings"] | None:
    if value == "checking":
        return "checking"
    if value == "savings":
        return "savings"
    return None


def _draft_id() -> str:
    return f"drf_{uuid.uuid4().hex}"


def _request_for(draft: asyncpg.Record) -> RequestPayment:
    retry = draft["kind"] == "retry"
    return RequestPayment(
        request_id=draft["draft_id"],
        enrollment_id=draft["enrollment_id"],
        amount=draft["amount"],
        instrument_token=draft["instrument_token"],
        sec_code=draft["sec_code"],
        payment_type=draft["payment_type"],
        entry_description="RETRY PYMT" if retry else "HLTH PREM",
        origin=ORIGIN,
        reinitiation_of=draft["reinitiation_of"],
        coverage_month=draft["coverage_month"],
        effective_date=draft["draft_on"],
    )


def view(mandate: asyncpg.Record, authorization: Any | None) -> dict[str, Any]:
    """A mandate as the API shows it: never more of the account than its last four digits."""
    shown: dict[str, Any] = {
        k: mandate[k]
        for k in ("mandate_id", "enrollment_id", "member_id", "status", "status_reason", "flag", "channel")
    }
    shown.update(
        account_last4=mandate["account_last4"],
        account_type=mandate["account_type"],
        sec_code=mandate["sec_code"],
        payment_type=mandate["payment_type"],
        draft_day=mandate["draft_day"],
        instrument_token=mandate["instrument_token"],
    )
    if authorization is not None:
        at = authorization["authorized_at"]
        shown["authorization"] = {
            "text_version": authorization["authorization_text_version"],
            "authorized_at": at.isoformat() if isinstance(at, datetime) else at,
            "channel": authorization["channel"],
            "sec_code": authorization["sec_code"],
        }
    return shown
