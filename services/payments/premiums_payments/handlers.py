"""payments use cases: vault an account, accept a payment, settle the day, learn what is due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from premiums_common.consumer import Incoming, Rejected
from premiums_common.outbox import Outgoing, envelope_for
from premiums_common.service import Service
from premiums_contracts import Envelope
from premiums_contracts.events import InvoiceIssued, PaymentCleared, PaymentSubmitted, RequestPayment

from premiums_payments import repository as repo
from premiums_payments.adapters.sandbox_bank import SandboxGateway
from premiums_payments.adapters.vault import Vault, new_instrument_token
from premiums_payments.domain.bank_account import BankAccount, InvalidBankAccount
from premiums_payments.domain.banking_days import next_banking_day
from premiums_payments.domain.confirmation import new_confirmation_number


class PaymentRefused(Exception):
    """A payment that cannot be accepted, with the plain-language reason and the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class PaymentOrder:
    enrollment_id: str
    member_id: str | None
    amount: Decimal
    instrument_token: str
    channel: str
    sec_code: str
    request_id: str | None = None


class Payments:
    def __init__(self, service: Service, vault: Vault, gateway: SandboxGateway) -> None:
        self.service = service
        self.vault = vault
        self.gateway = gateway

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

    async def quote(self, con: asyncpg.Connection | asyncpg.Pool, enrollment_id: str, member_id: str | None) -> Any:
        """What is due on an enrollment the caller may pay (a member pays only their own)."""
        dues = await repo.dues(con, enrollment_id)
        if dues is None or (member_id is not None and dues["member_id"] != member_id):
            raise PaymentRefused(404, f"We could not find enrollment {enrollment_id} on your account.")
        return dues

    async def accept(
        self, con: asyncpg.Connection, order: PaymentOrder, cause: Envelope | None = None
    ) -> tuple[dict[str, Any], list[Outgoing]]:
        dues = await self.quote(con, order.enrollment_id, order.member_id)
        account = await repo.bank_account(con, order.instrument_token)
        if account is None or account["member_id"] != dues["member_id"]:
            raise PaymentRefused(422, "That saved bank account is not one of yours; add the account again.")
        received_at = self.service.clock.now()
        business_date = received_at.date()
        row = {
            "payment_id": f"pay_{uuid.uuid4().hex}",
            "confirmation_number": new_confirmation_number(),
            "request_id": order.request_id,
            "enrollment_id": order.enrollment_id,
            "member_id": dues["member_id"],
            "amount": order.amount,
            "channel": order.channel,
            "method": "ach_debit",
            "sec_code": order.sec_code,
            "instrument_token": order.instrument_token,
            "account_last4": account["account_last4"],
            "coverage_month": dues["coverage_month"],
            "received_at": received_at,
            "business_date": business_date,
            "settles_on": next_banking_day(business_date),
            "status": "accepted",
        }
        event = PaymentSubmitted(
            payment_id=row["payment_id"],
            confirmation_number=row["confirmation_number"],
            enrollment_id=row["enrollment_id"],
            member_id=row["member_id"],
            amount=row["amount"],
            channel=row["channel"],
            method="ach_debit",
            account_last4=row["account_last4"],
            received_at=received_at,
            business_date=business_date,
            coverage_month=row["coverage_month"],
            request_id=order.request_id,
        )
        envelope = envelope_for(event, source=self.service.source, key=order.enrollment_id, cause=cause)
        row["correlation_id"] = envelope.correlation_id
        if not await repo.insert_payment(con, row):
            return row, []  # the same RequestPayment again: accepted once already
        return row, [Outgoing(event, envelope)]

    # -- consumers and daily work ------------------------------------------------------------------

    async def invoice_issued(self, con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        invoice: InvoiceIssued = incoming.event
        await repo.upsert_dues(con, invoice)
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
        )
        try:
            _, caused = await self.accept(con, order, cause=incoming.envelope)
        except PaymentRefused as exc:
            raise Rejected(f"RequestPayment {command.request_id} refused: {exc.detail}") from exc
        return caused

    async def settle(self, con: asyncpg.Connection, business_date: date) -> list[Outgoing]:
        """ARCHITECTURE §5: the sandbox clears every debit on the banking day after its acceptance."""
        caused = []
        for row in await repo.settle_due(con, business_date):
            event = PaymentCleared(
                payment_id=row["payment_id"],
                enrollment_id=row["enrollment_id"],
                amount=row["amount"],
                cleared_on=row["cleared_on"],
                member_id=row["member_id"],
            )
            envelope = Envelope(
                type=event.ce_type(),
                source=self.service.source,
                subject=row["enrollment_id"],
                correlation_id=row["correlation_id"],
            )
            caused.append(Outgoing(event, envelope))
        return caused
