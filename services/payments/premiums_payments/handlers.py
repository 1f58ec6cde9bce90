"""payments use cases: vault an account, accept a payment on any channel, settle the day, hear the bank."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from premiums_common.banking_days import next_banking_day
from premiums_common.consumer import Incoming, Rejected
from premiums_common.database import custom_plans
from premiums_common.outbox import Outgoing, envelope_for, resumed
from premiums_common.service import Service
from premiums_common.timezone import NEW_YORK
from premiums_contracts import Envelope, Event
from premiums_contracts.events import (
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    EnrollmentSubmitted,
    InvoiceIssued,
    MemberContactChanged,
    PaymentCleared,
    PaymentReturned,
    PaymentSubmitted,
    PaymentUnapplied,
    ReinstatementRequested,
    RequestPayment,
)

from premiums_payments import repository as repo
from premiums_payments.account_corrections import apply_notification_of_change
from premiums_payments.adapters.gateway import BankGateway
from premiums_payments.adapters.vault import Vault, new_instrument_token
from premiums_payments.domain.bank_account import BankAccount, InvalidBankAccount
from premiums_payments.domain.channels import TelAuthorization, closed_enrollment_reason, mail_clears_on
from premiums_payments.domain.confirmation import new_confirmation_number
from premiums_payments.domain.guest import LOCKOUT_HOURS, GuestClaim, MemberRecord, identity_matches, locked_out
from premiums_payments.domain.idempotency import purge_before
from premiums_payments.domain.returns import retry_eligible, return_reason
from premiums_payments.domain.unapplied import MailMatch, match_mail_payment


class PaymentRefused(Exception):
    """A payment that cannot be accepted, with the plain-language reason and the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class PaymentOrder:
    """One payment for one enrollment (R1.5: health and dental are paid separately)."""

    enrollment_id: str
    member_id: str | None
    amount: Decimal
    channel: str
    sec_code: str | None
    instrument_token: str | None = None
    method: str = "ach_debit"
    request_id: str | None = None
    entry_description: str = "HLTH PREM"
    payment_type: str = "S"
    reinitiation_of: str | None = None
    check_number: str | None = None
    tel_authorization: TelAuthorization | None = None
    received_on: date | None = None
    effective_date: date | None = None


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


class Payments:
    def __init__(self, service: Service, vault: Vault, gateway: BankGateway) -> None:
        self.service = service
        self.vault = vault
        self.gateway = gateway

    def _outgoing(self, event: Event, key: str, correlation_id: str | None, traceparent: str | None = None) -> Outgoing:
        """An event of a payment's life after acceptance: same flow (correlation) and same trace."""
        return resumed(
            event, source=self.service.source, key=key, correlation_id=correlation_id, traceparent=traceparent
        )

    async def vault_account(
        self, con: asyncpg.Connection | asyncpg.Pool, member_id: str, account: BankAccount
    ) -> dict[str, Any]:
        """R5.4: the account is validated with the bank before it is stored and used."""
        if not self.gateway.validate_account(account.routing_number, account.last4):
            raise InvalidBankAccount(
                "Your bank could not validate this account. Check the numbers or use another account."
            )
        token = new_instrument_token()
        key_id, ciphertext = self.vault.encrypt(account.account_number, token=token)
        row = {
            "instrument_token": token,
            "member_id": member_id,
            "routing_number": account.routing_number,
            "account_ciphertext": ciphertext,
            "key_id": key_id,
            "account_last4": account.last4,
            "account_type": account.account_type,
            "holder_name": account.holder_name,
        }
        await repo.insert_bank_account(con, row)
        return {
            "instrument_token": token,
            "account_last4": account.last4,
            "account_type": account.account_type,
        }

    async def quote(
        self,
        con: asyncpg.Connection | asyncpg.Pool,
        enrollment_id: str,
        member_id: str | None,
        instrument_token: str | None = None,
    ) -> Any:
        """What is due on an enrollment the caller may pay (a member pays only their own, and only while open).

        Given a bank account's token, the row also says whose account it is (`account_member_id`,
        `account_last4`), read in the same round trip.
        """
        dues = await repo.dues(con, enrollment_id, instrument_token)
        if dues is None or (member_id is not None and dues["member_id"] != member_id):
            raise PaymentRefused(404, f"We could not find enrollment {enrollment_id} on your account.")
        if dues["closure_kind"] is None:
            return dues
        pay_by = dues["reinstatement_pay_by"]
        if pay_by is not None and self.service.clock.today() <= pay_by:
            # R2.10/D8: a reinstatement was requested; its balance plus the next month can be paid until pay_by.
            return {**dict(dues), "total_due": dues["reinstatement_due"], "due_date": pay_by}
        raise PaymentRefused(409, closed_enrollment_reason(dues["closure_kind"]))

    async def accept(
        self, con: asyncpg.Connection, order: PaymentOrder, cause: Envelope | None = None
    ) -> tuple[dict[str, Any], list[Outgoing]]:
        debit = order.method == "ach_debit"
        dues = await self.quote(con, order.enrollment_id, order.member_id, order.instrument_token if debit else None)
        last4 = None
        if debit:
            if dues["account_member_id"] != dues["member_id"]:  # None: no such account
                raise PaymentRefused(422, "That saved bank account is not one of yours; add the account again.")
            last4 = dues["account_last4"]
        if order.received_on is not None:  # D1: mail counts as received on its deposit date
            received_at = datetime.combine(order.received_on, time(0, 0), tzinfo=NEW_YORK)
            settles_on = mail_clears_on(order.received_on)
        else:
            received_at = self.service.clock.now()
            if order.effective_date is not None and order.effective_date > received_at.date():
                # A draft for day D is accepted on D even if this service has not seen D on the clock yet.
                received_at = datetime.combine(order.effective_date, received_at.timetz())
            settles_on = next_banking_day(received_at.date())
        business_date = received_at.date()
        authorization = order.tel_authorization
        row = {
            "payment_id": f"pay_{uuid.uuid4().hex}",
            "confirmation_number": new_confirmation_number(),
            "request_id": order.request_id,
            "enrollment_id": order.enrollment_id,
            "member_id": dues["member_id"],
            "amount": order.amount,
            "channel": order.channel,
            "method": order.method,
            "sec_code": order.sec_code,
            "instrument_token": order.instrument_token,
            "account_last4": last4,
            "coverage_month": dues["coverage_month"],
            "received_at": received_at,
            "business_date": business_date,
            "settles_on": settles_on,
            "status": "accepted",
            "binder": dues["binder"],
            "unapplied_reason": None,
            "entry_description": order.entry_description,
            "payment_type": order.payment_type,
            "reinitiation_of": order.reinitiation_of,
            "check_number": order.check_number,
            "tel_authorization": (
                json.dumps(asdict(authorization), default=_json_default) if authorization is not None else None
            ),
        }
        event = PaymentSubmitted(
            payment_id=row["payment_id"],
            confirmation_number=row["confirmation_number"],
            enrollment_id=row["enrollment_id"],
            member_id=row["member_id"],
            amount=row["amount"],
            channel=row["channel"],
            method=row["method"],
            account_last4=last4,
            received_at=received_at,
            business_date=business_date,
            coverage_month=row["coverage_month"],
            request_id=order.request_id,
        )
        envelope = envelope_for(event, source=self.service.source, key=order.enrollment_id, cause=cause)
        row["correlation_id"] = envelope.correlation_id
        row["traceparent"] = envelope.traceparent
        if not await repo.insert_payment(con, row):
            return row, []  # the same RequestPayment again: accepted once already
        return row, [Outgoing(event, envelope)]

    async def match_mail(
        self,
        con: asyncpg.Connection,
        enrollment_id: str | None,
        billing_account: str | None,
        member_id: str | None,
    ) -> MailMatch:
        """R4.8: which open enrollment a mailed payment pays, by the identifiers written on it."""

        async def found(**identifier: str | None) -> list[str] | None:
            if next(iter(identifier.values())) is None:
                return None
            return await repo.open_enrollments(con, **identifier)

        return match_mail_payment(
            by_enrollment=await found(enrollment_id=enrollment_id),
            by_billing_account=await found(billing_account=billing_account),
            by_member=await found(member_id=member_id),
        )

    async def hold_unapplied(
        self,
        con: asyncpg.Connection,
        *,
        amount: Decimal,
        method: str,
        check_number: str | None,
        received_on: date,
        reason: str,
        enrollment_id: str | None,
    ) -> tuple[dict[str, Any], list[Outgoing]]:
        """R4.8: money in hand that matches no single open enrollment waits in suspense for staff."""
        received_at = datetime.combine(received_on, time(0, 0), tzinfo=NEW_YORK)
        row: dict[str, Any] = {
            "payment_id": f"pay_{uuid.uuid4().hex}",
            "confirmation_number": new_confirmation_number(),
            "request_id": None,
            "enrollment_id": None,
            "member_id": None,
            "amount": amount,
            "channel": "mail",
            "method": method,
            "sec_code": None,
            "instrument_token": None,
            "account_last4": None,
            "coverage_month": None,
            "received_at": received_at,
            "business_date": received_on,
            "settles_on": mail_clears_on(received_on),
            "status": "unapplied",
            "binder": False,
            "entry_description": "HLTH PREM",
            "payment_type": "S",
            "reinitiation_of": None,
            "check_number": check_number,
            "tel_authorization": None,
            "unapplied_reason": reason,
        }
        event = PaymentUnapplied(
            payment_id=row["payment_id"],
            amount=amount,
            reason=reason,
            received_on=received_on,
            enrollment_id=enrollment_id,
        )
        envelope = envelope_for(event, source=self.service.source, key=enrollment_id or row["payment_id"])
        row["correlation_id"] = envelope.correlation_id
        row["traceparent"] = envelope.traceparent
        await repo.insert_payment(con, row)
        return row, [Outgoing(event, envelope)]

    async def apply_unapplied(
        self, con: asyncpg.Connection, payment_id: str, enrollment_id: str, staff_id: str
    ) -> tuple[Any, list[Outgoing]]:
        """R4.8: staff move a suspended payment onto one open enrollment; it is then submitted as received."""
        dues = await self.quote(con, enrollment_id, None)
        row = await repo.apply_unapplied(con, payment_id, dues, staff_id, self.service.clock.now())
        if row is None:
            raise PaymentRefused(404, "There is no unapplied payment with that id (it may be applied already).")
        event = PaymentSubmitted(
            payment_id=row["payment_id"],
            confirmation_number=row["confirmation_number"],
            enrollment_id=enrollment_id,
            member_id=row["member_id"],
            amount=row["amount"],
            channel="mail",
            method=row["method"],
            account_last4=None,
            received_at=row["received_at"],
            business_date=row["business_date"],
            coverage_month=row["coverage_month"],
        )
        return row, [self._outgoing(event, enrollment_id, row["correlation_id"])]

    async def guest_matches(self, con: asyncpg.Connection, claim: GuestClaim) -> bool:
        person, enrollments = await repo.member_identity(con, claim.member_id)
        record = None
        if person is not None:
            record = MemberRecord(
                member_id=person["member_id"],
                date_of_birth=person["date_of_birth"],
                zip=person["zip"],
                enrollments=frozenset(e["enrollment_id"] for e in enrollments),
                billing_accounts=frozenset(e["billing_account"] for e in enrollments),
            )
        return identity_matches(record, claim)

    async def guest_enrollment(self, con: asyncpg.Connection, claim: GuestClaim) -> str:
        if claim.enrollment_id is not None:
            return claim.enrollment_id
        _, enrollments = await repo.member_identity(con, claim.member_id)
        return str(next(e["enrollment_id"] for e in enrollments if e["billing_account"] == claim.billing_account))

    async def guest_locked_out(self, con: asyncpg.Connection | asyncpg.Pool, member_id: str) -> bool:
        since = self.service.clock.now() - timedelta(hours=LOCKOUT_HOURS)
        return locked_out(await repo.recent_mismatches(con, member_id, since))

    async def record_guest_mismatch(self, con: asyncpg.Connection | asyncpg.Pool, member_id: str) -> None:
        await repo.record_mismatch(con, member_id, self.service.clock.now())

    # -- consumers -----------------------------------------------------------------------------------

    async def invoice_issued(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        invoice: InvoiceIssued = incoming.event
        await repo.upsert_dues(con, invoice)
        return []

    async def invoices_issued(self, con: asyncpg.Connection, run: Sequence[Incoming]) -> list[Outgoing]:
        """`invoice_issued` for a bill day's run of invoices, in one statement."""
        await repo.upsert_dues_many(con, [i.event for i in run])
        return []

    async def enrollment_submitted(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        """Guest identity (R4.2) straight from the system of record, enrollment.events."""
        event: EnrollmentSubmitted = incoming.event
        await repo.upsert_enrollment_identity(con, event.enrollment_id, event.member_id, event.billing_account)
        await repo.upsert_member_identity(
            con, event.member_id, event.member.date_of_birth, event.member.zip, incoming.envelope.time
        )
        return []

    async def member_contact_changed(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        event: MemberContactChanged = incoming.event
        await repo.upsert_member_identity(
            con, event.member_id, event.member.date_of_birth, event.member.zip, incoming.envelope.time
        )
        return []

    async def enrollment_cancelled(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        event: EnrollmentCancelledNoBinder = incoming.event
        await repo.close_enrollment(con, event.enrollment_id, "cancelled_no_binder", event.coverage_start)
        return []

    async def coverage_terminated(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        event: CoverageTerminated = incoming.event
        await repo.close_enrollment(con, event.enrollment_id, "terminated", event.end_date)
        return []

    async def reinstatement_requested(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        event: ReinstatementRequested = incoming.event
        await repo.open_for_reinstatement(con, event.enrollment_id, event.pay_by, event.amount_due)
        return []

    async def coverage_reinstated(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        event: CoverageReinstated = incoming.event
        await repo.reopen_enrollment(con, event.enrollment_id)
        return []

    async def payment_requested(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        command: RequestPayment = incoming.event
        order = PaymentOrder(
            enrollment_id=command.enrollment_id,
            member_id=None,
            amount=command.amount,
            instrument_token=command.instrument_token,
            channel="autopay",
            sec_code=command.sec_code,
            request_id=command.request_id,
            entry_description=command.entry_description,
            payment_type=command.payment_type,
            reinitiation_of=command.reinitiation_of,
            effective_date=command.effective_date,
        )
        try:
            _, caused = await self.accept(con, order, cause=incoming.envelope)
        except PaymentRefused as exc:
            raise Rejected(f"RequestPayment {command.request_id} refused: {exc.detail}") from exc
        return caused

    # -- daily work ----------------------------------------------------------------------------------

    async def settle(self, con: asyncpg.Connection, business_date: date) -> AsyncIterator[list[Outgoing]]:
        """ARCHITECTURE §5: hand the bank yesterday's debits, hear its returns and NOCs, clear what is due.

        Reports due today are applied before clearing; what the bank hands over today (the NACHA gateway's
        inbound files; the sandbox schedules its reports for later days) is applied right after hearing it.
        The due debits clear a page at a time (`repo.SETTLE_PAGE`), each page's events yielded to the outbox, so
        memory does not grow with the day."""
        await self.gateway.send(con, business_date)
        yield await self._bank_reports(con, business_date)
        await custom_plans(con)
        after: repo.SettlePage | None = None
        while True:
            rows, after = await repo.settle_due(con, business_date, after=after)
            if after is None:
                break
            yield [self._cleared(row) for row in rows]
        await self.gateway.receive(con, business_date, next_banking_day(business_date))
        yield await self._bank_reports(con, business_date)

    def _cleared(self, row: Any) -> Outgoing:
        event = PaymentCleared(
            payment_id=row["payment_id"],
            enrollment_id=row["enrollment_id"],
            amount=row["amount"],
            cleared_on=row["cleared_on"],
            member_id=row["member_id"],
        )
        return self._outgoing(event, row["enrollment_id"], row["correlation_id"], row["traceparent"])

    async def _bank_reports(self, con: asyncpg.Connection, business_date: date) -> list[Outgoing]:
        return [*await self._returns(con, business_date), *await self._notices(con, business_date)]

    async def _returns(self, con: asyncpg.Connection, business_date: date) -> list[Outgoing]:
        """R5.9/D7/D10: a returned debit is reported once per return code, retryable only if R01/R09 and no binder."""
        caused = []
        for row in await repo.apply_due_returns(con, business_date):
            event = PaymentReturned(
                payment_id=row["payment_id"],
                enrollment_id=row["enrollment_id"],
                amount=row["amount"],
                return_code=row["return_code"],
                return_reason=return_reason(row["return_code"]),
                returned_on=row["returned_on"],
                retry_eligible=retry_eligible(row["return_code"], binder=row["binder"]),
                member_id=row["member_id"],
                binder=row["binder"],
                channel=row["channel"],
                instrument_token=row["instrument_token"],
                account_last4=row["account_last4"],
            )
            caused.append(self._outgoing(event, row["enrollment_id"], row["correlation_id"], row["traceparent"]))
        return caused

    async def _notices(self, con: asyncpg.Connection, business_date: date) -> list[Outgoing]:
        """R5.14: a Notification of Change corrects the vault, then tells autopay (and the member) about it."""
        caused = []
        for row in await repo.apply_due_notices(con, business_date):
            event = await apply_notification_of_change(con, self.vault, row, business_date)
            if event is not None:
                caused.append(self._outgoing(event, row["enrollment_id"], row["correlation_id"], row["traceparent"]))
        return caused

    async def purge_idempotency_keys(self, con: asyncpg.Connection, business_date: date) -> list[Outgoing]:
        """ARCHITECTURE §3: keys are kept 120 days, then forgotten in one statement."""
        await repo.purge_idempotency_keys(con, purge_before(business_date))
        return []
