"""payments' member HTTP API (ARCHITECTURE §3): vault an account, review, pay, look payments up."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from premiums_common import outbox
from premiums_common.auth import Principal, authenticate, authenticate_staff
from premiums_common.problems import Problem
from pydantic import BaseModel, Field, field_validator

from premiums_payments import repository as repo
from premiums_payments.domain.amounts import InvalidAmount, parse_ceiling, valid_amount
from premiums_payments.domain.bank_account import (
    InvalidBankAccount,
    refuse_non_bank_method,
    validate_bank_account,
)
from premiums_payments.domain.channels import (
    ChannelRefused,
    TelAuthorization,
    check_mail_payment,
    check_tel_authorization,
)
from premiums_payments.domain.guest import DOES_NOT_MATCH, LOCKED_OUT, GuestClaim
from premiums_payments.handlers import PaymentOrder, PaymentRefused, Payments

router = APIRouter(prefix="/v1", tags=["payments"])
Caller = Annotated[Principal, Depends(authenticate)]
StaffCaller = Annotated[Principal, Depends(authenticate_staff)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
MAX_AMOUNT = parse_ceiling(os.environ.get("PAYMENTS_MAX_AMOUNT"))
ONE_ENROLLMENT = "Pay one enrollment at a time: health and dental are billed separately and must be paid separately."


class BankAccountIn(BaseModel):
    routing_number: str = Field(max_length=32)
    account_number: str = Field(max_length=40)
    account_type: str = Field(max_length=16)
    holder_name: str = Field(max_length=140)


class PaymentIn(BaseModel):
    enrollment_id: str = Field(max_length=64)
    amount: Decimal
    payment_method: dict[str, Any]

    @field_validator("enrollment_id", mode="before")
    @classmethod
    def _one_enrollment(cls, value: Any) -> Any:
        """R1.5: one payment pays one enrollment."""
        if isinstance(value, list | tuple):
            raise ValueError(ONE_ENROLLMENT)
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal) -> Decimal:
        try:
            return valid_amount(value, MAX_AMOUNT)
        except InvalidAmount as exc:
            raise ValueError(str(exc)) from exc


class GuestPaymentIn(PaymentIn):
    """R4.2: no login; who pays is proven by data that must match our records."""

    enrollment_id: str | None = Field(default=None, max_length=64)  # type: ignore[assignment]
    billing_account: str | None = Field(default=None, max_length=16)
    member_id: str = Field(max_length=16)
    date_of_birth: date
    zip: str = Field(max_length=10)


class TelAuthorizationIn(BaseModel):
    """R5.3: the oral authorization of a single-entry TEL debit."""

    authorized_on: date
    amount: Decimal
    consumer_name: str = Field(max_length=140)
    single_entry: bool
    recording_reference: str | None = Field(default=None, max_length=120)
    written_notice_reference: str | None = Field(default=None, max_length=120)


class StaffPaymentIn(PaymentIn):
    """Mail may name its enrollment by Enrollment ID, Billing Account Number or Member ID (R4.8)."""

    channel: Literal["phone", "mail"]
    enrollment_id: str | None = Field(default=None, max_length=64)  # type: ignore[assignment]
    billing_account: str | None = Field(default=None, max_length=16)
    member_id: str | None = Field(default=None, max_length=16)
    payment_method: dict[str, Any] | None = None  # type: ignore[assignment]
    authorization: TelAuthorizationIn | None = None
    method: str | None = Field(default=None, max_length=32)
    check_number: str | None = Field(default=None, max_length=20)
    received_on: date | None = None


def _payments(request: Request) -> Payments:
    return request.app.state.payments  # type: ignore[no-any-return]


def _refused(exc: InvalidBankAccount | PaymentRefused) -> Problem:
    if isinstance(exc, PaymentRefused):
        return Problem(exc.status, "Payment not accepted", exc.detail)
    return Problem(422, "Payment method not accepted", str(exc))


async def _instrument(request: Request, member_id: str, method: dict[str, Any], con: Any) -> dict[str, Any]:
    """D16: a bank account by token or by numbers; anything else is refused naming what is accepted."""
    try:
        refuse_non_bank_method(str(method.get("type", "unknown")))
        if token := method.get("instrument_token"):
            account = await repo.bank_account(con, str(token))
            if account is None or account["member_id"] != member_id:
                raise PaymentRefused(422, "That saved bank account is not one of yours; add the account again.")
            return {
                "instrument_token": account["instrument_token"],
                "account_last4": account["account_last4"],
                "account_type": account["account_type"],
            }
        account_in = BankAccountIn.model_validate({k: method.get(k, "") for k in BankAccountIn.model_fields})
        account = validate_bank_account(**account_in.model_dump())
        return await _payments(request).vault_account(con, member_id, account)
    except (InvalidBankAccount, PaymentRefused) as exc:
        raise _refused(exc) from exc


def _masked(last4: str) -> str:
    return f"****{last4}"


@router.post("/bank-accounts", status_code=201)
async def add_bank_account(body: BankAccountIn, request: Request, caller: Caller) -> dict[str, Any]:
    try:
        account = validate_bank_account(**body.model_dump())
        return await _payments(request).vault_account(request.app.state.service.pool, caller.subject, account)
    except InvalidBankAccount as exc:
        raise _refused(exc) from exc


@router.get("/bank-accounts/{instrument_token}")
async def get_bank_account(instrument_token: str, request: Request, caller: Caller) -> dict[str, Any]:
    """A vaulted account as other systems may see it: token, last four digits, type (never the number).

    autopay uses this to check that a mandate's token belongs to the member who sets it up.
    """
    account = await repo.bank_account(request.app.state.service.pool, instrument_token)
    if account is None or not caller.may_act_for(account["member_id"]):
        raise Problem(404, "Not found", "We could not find that bank account for you.")
    return {
        "instrument_token": account["instrument_token"],
        "member_id": account["member_id"],
        "account_last4": account["account_last4"],
        "account_type": account["account_type"],
        "validated": True,
    }


@router.post("/payments/preview")
async def preview_payment(body: PaymentIn, request: Request, caller: Caller) -> dict[str, Any]:
    """The review step: what this payment pays and whether it is on time. Changes nothing."""
    pool = request.app.state.service.pool
    token = body.payment_method.get("instrument_token")
    try:
        refuse_non_bank_method(str(body.payment_method.get("type", "unknown")))
        dues = await _payments(request).quote(pool, body.enrollment_id, caller.subject, token and str(token))
        if token is None:
            validate_bank_account(
                **BankAccountIn.model_validate(
                    {k: body.payment_method.get(k, "") for k in BankAccountIn.model_fields}
                ).model_dump()
            )
            last4 = str(body.payment_method.get("account_number", ""))[-4:]
        else:
            if dues["account_member_id"] != caller.subject:
                raise PaymentRefused(422, "That saved bank account is not one of yours; add the account again.")
            last4 = dues["account_last4"]
    except (InvalidBankAccount, PaymentRefused) as exc:
        raise _refused(exc) from exc
    today = request.app.state.service.clock.today()
    return {
        "enrollment_id": body.enrollment_id,
        "amount": f"{body.amount:.2f}",
        "amount_due": f"{dues['total_due']:.2f}",
        "coverage_month": dues["coverage_month"],
        "due_date": dues["due_date"].isoformat(),
        "on_time": today <= dues["due_date"],
        "pays_in_full": body.amount >= dues["total_due"],
        "account": _masked(last4),
    }


async def _idempotent(
    request: Request,
    principal: str,
    key: str | None,
    body: BaseModel,
    pay: Callable[[Any], Awaitable[dict[str, Any]]],
) -> JSONResponse:
    """ARCHITECTURE §3: a repeat returns the first response; a repeat with another body is refused."""
    if not key:
        raise Problem(
            400,
            "Idempotency-Key required",
            "Send an Idempotency-Key header (a fresh UUID per payment) so a retry never pays twice.",
        )
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    service = request.app.state.service
    async with service.pool.acquire() as con, con.transaction():
        if not await repo.claim_idempotency_key(con, principal, key, request_hash, service.clock.today()):
            previous = await repo.idempotent_response(con, principal, key)
            if previous["request_hash"] != request_hash:
                raise Problem(
                    422,
                    "Idempotency-Key reused",
                    "This Idempotency-Key was already used for a different payment; use a new key.",
                )
            return JSONResponse(json.loads(previous["response"]), status_code=previous["status_code"])
        response = await pay(con)
        await repo.store_idempotent_response(con, principal, key, 201, json.dumps(response))
    return JSONResponse(response, status_code=201)


async def _accept(request: Request, con: Any, order: PaymentOrder) -> dict[str, Any]:
    try:
        row, caused = await _payments(request).accept(con, order)
    except PaymentRefused as exc:
        raise _refused(exc) from exc
    await outbox.add(con, caused)
    return _payment_view(row)


@router.post("/payments", status_code=201)
async def submit_payment(
    body: PaymentIn, request: Request, caller: Caller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def pay(con: Any) -> dict[str, Any]:
        instrument = await _instrument(request, caller.subject, body.payment_method, con)
        order = PaymentOrder(
            enrollment_id=body.enrollment_id,
            member_id=caller.subject,
            amount=body.amount,
            instrument_token=instrument["instrument_token"],
            channel="portal",
            sec_code="WEB",
        )
        return await _accept(request, con, order)

    return await _idempotent(request, caller.subject, idempotency_key, body, pay)


@router.post("/guest/payments", status_code=201)
async def submit_guest_payment(
    body: GuestPaymentIn, request: Request, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """R4.2: member ID, enrollment (or billing account), date of birth and ZIP must all match our records.

    After 5 mismatches in 24 hours for a member ID, guest payments for it pause; the refusal never says
    which field did not match.
    """
    try:
        refuse_non_bank_method(str(body.payment_method.get("type", "unknown")))
    except InvalidBankAccount as exc:
        raise _refused(exc) from exc
    if (body.enrollment_id is None) == (body.billing_account is None):
        raise Problem(
            422, "The request is not valid", "Enter either your Enrollment ID or your Billing Account Number."
        )
    payments = _payments(request)
    pool = request.app.state.service.pool
    if await payments.guest_locked_out(pool, body.member_id):
        raise Problem(429, "Guest payments paused", LOCKED_OUT)
    claim = GuestClaim(body.member_id, body.date_of_birth, body.zip, body.enrollment_id, body.billing_account)
    async with pool.acquire() as con:
        matches = await payments.guest_matches(con, claim)
        if not matches:
            await payments.record_guest_mismatch(con, body.member_id)
            raise Problem(422, "Payment not accepted", DOES_NOT_MATCH)
        enrollment_id = await payments.guest_enrollment(con, claim)

    async def pay(con: Any) -> dict[str, Any]:
        if body.payment_method.get("instrument_token"):
            raise Problem(422, "Payment method not accepted", "As a guest, enter your routing and account numbers.")
        instrument = await _instrument(request, body.member_id, body.payment_method, con)
        order = PaymentOrder(
            enrollment_id=enrollment_id,
            member_id=body.member_id,
            amount=body.amount,
            instrument_token=instrument["instrument_token"],
            channel="guest",
            sec_code="WEB",
        )
        return await _accept(request, con, order)

    return await _idempotent(request, f"guest:{body.member_id}", idempotency_key, body, pay)


@router.post("/staff/payments", status_code=201)
async def submit_staff_payment(
    body: StaffPaymentIn, request: Request, caller: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Phone payments are SEC TEL with the R5.3 authorization recorded; mail is a check or money order (D1)."""
    today = request.app.state.service.clock.today()
    payments = _payments(request)
    method_type = str((body.payment_method or {}).get("type", "bank_account"))
    try:
        refuse_non_bank_method(method_type)
        if body.channel == "mail":
            if body.method is not None and body.method not in ("check", "money_order"):
                refuse_non_bank_method(body.method)
            if body.received_on is None or body.method is None:
                raise ChannelRefused("A mail payment needs its method (check or money_order) and its deposit date.")
            check_mail_payment(body.method, body.check_number, body.received_on, today=today)
        else:
            if body.enrollment_id is None:
                raise ChannelRefused("A phone payment needs the Enrollment ID it pays.")
            if body.authorization is None or body.payment_method is None:
                raise ChannelRefused("A phone payment needs the bank account and the caller's authorization (R5.3).")
            check_tel_authorization(
                TelAuthorization(**body.authorization.model_dump()), amount=body.amount, today=today
            )
    except (InvalidBankAccount, ChannelRefused) as exc:
        raise Problem(422, "Payment not accepted", str(exc)) from exc

    async def pay(con: Any) -> dict[str, Any]:
        if body.channel == "mail":
            return await _mail(con)
        assert body.enrollment_id is not None and body.payment_method is not None and body.authorization
        try:
            dues = await payments.quote(con, body.enrollment_id, None)
        except PaymentRefused as exc:
            raise _refused(exc) from exc
        instrument = await _instrument(request, dues["member_id"], body.payment_method, con)
        order = PaymentOrder(
            enrollment_id=body.enrollment_id,
            member_id=None,
            amount=body.amount,
            channel="phone",
            sec_code="TEL",
            instrument_token=instrument["instrument_token"],
            tel_authorization=TelAuthorization(**body.authorization.model_dump()),
        )
        return await _accept(request, con, order)

    async def _mail(con: Any) -> dict[str, Any]:
        """D1, R4.8: money in hand is never refused; what matches no single open enrollment waits unapplied."""
        assert body.method is not None and body.received_on is not None
        match = await payments.match_mail(con, body.enrollment_id, body.billing_account, body.member_id)
        if match.enrollment_id is None:
            row, caused = await payments.hold_unapplied(
                con,
                amount=body.amount,
                method=body.method,
                check_number=body.check_number,
                received_on=body.received_on,
                reason=str(match.reason),
                enrollment_id=body.enrollment_id,
            )
            await outbox.add(con, caused)
            return _payment_view(row)
        order = PaymentOrder(
            enrollment_id=match.enrollment_id,
            member_id=None,
            amount=body.amount,
            channel="mail",
            sec_code=None,
            method=body.method,
            check_number=body.check_number,
            received_on=body.received_on,
        )
        return await _accept(request, con, order)

    return await _idempotent(request, f"staff:{caller.subject}", idempotency_key, body, pay)


class ApplyIn(BaseModel):
    enrollment_id: str = Field(max_length=64)


@router.get("/staff/unapplied")
async def list_unapplied(request: Request, caller: StaffCaller) -> list[dict[str, Any]]:
    """R4.8: the suspense queue, oldest first."""
    return [_payment_view(r) for r in await repo.unapplied_payments(request.app.state.service.pool)]


@router.post("/staff/unapplied/{payment_id}/apply", status_code=201)
async def apply_unapplied(
    payment_id: str, body: ApplyIn, request: Request, caller: StaffCaller, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """R4.8: apply a suspended payment to one open enrollment; who applied it and when are kept."""

    async def apply(con: Any) -> dict[str, Any]:
        try:
            row, caused = await _payments(request).apply_unapplied(con, payment_id, body.enrollment_id, caller.subject)
        except PaymentRefused as exc:
            raise _refused(exc) from exc
        await outbox.add(con, caused)
        return _payment_view(row)

    return await _idempotent(request, f"staff:{caller.subject}", idempotency_key, body, apply)


def _payment_view(row: Any) -> dict[str, Any]:
    return {
        "payment_id": row["payment_id"],
        "confirmation_number": row["confirmation_number"],
        "status": row["status"],
        "enrollment_id": row["enrollment_id"],
        "amount": f"{row['amount']:.2f}",
        "channel": row["channel"],
        "account_last4": row["account_last4"],
        "coverage_month": row["coverage_month"],
        "received_at": row["received_at"].isoformat(),
        "business_date": row["business_date"].isoformat(),
        "settles_on": row["settles_on"].isoformat() if row["settles_on"] else None,
        "method": row["method"],
        "binder": row["binder"],
        "return_code": row.get("return_code"),
        "returned_on": _iso(row.get("returned_on")),
        "unapplied_reason": row.get("unapplied_reason"),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@router.get("/payments/{payment_id}")
async def get_payment(payment_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    row = await repo.payment(request.app.state.service.pool, payment_id)
    if row is None or not caller.may_act_for(row["member_id"]):
        raise Problem(404, "Not found", "We could not find that payment for you.")
    return _payment_view(row)


@router.get("/payments")
async def list_payments(enrollment_id: str, request: Request, caller: Caller) -> list[dict[str, Any]]:
    rows = await repo.payments_of(request.app.state.service.pool, enrollment_id)
    return [_payment_view(r) for r in rows if caller.may_act_for(r["member_id"])]
