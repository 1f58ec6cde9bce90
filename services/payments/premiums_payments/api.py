"""payments' member HTTP API (ARCHITECTURE §3): vault an account, review, pay, look payments up."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from premiums_common import outbox
from premiums_common.auth import Principal, authenticate
from premiums_common.problems import Problem
from pydantic import BaseModel, Field, field_validator

from premiums_payments import repository as repo
from premiums_payments.domain.bank_account import (
    InvalidBankAccount,
    refuse_non_bank_method,
    validate_bank_account,
)
from premiums_payments.handlers import PaymentOrder, PaymentRefused, Payments

router = APIRouter(prefix="/v1", tags=["payments"])
Caller = Annotated[Principal, Depends(authenticate)]
MAX_AMOUNT = Decimal("10000.00")


class BankAccountIn(BaseModel):
    routing_number: str = Field(max_length=32)
    account_number: str = Field(max_length=40)
    account_type: str = Field(max_length=16)
    holder_name: str = Field(max_length=140)


class PaymentIn(BaseModel):
    enrollment_id: str = Field(max_length=64)
    amount: Decimal
    payment_method: dict[str, Any]

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0:
            raise ValueError("the amount must be more than $0.00")
        if value != value.quantize(Decimal("0.01")):
            raise ValueError("the amount can have at most two decimals (cents)")
        if value > MAX_AMOUNT:
            raise ValueError(f"the amount cannot be more than ${MAX_AMOUNT:,.2f} in one payment")
        return value.quantize(Decimal("0.01"))


def _payments(request: Request) -> Payments:
    return request.app.state.payments  # type: ignore[no-any-return]


def _refused(exc: InvalidBankAccount | PaymentRefused) -> Problem:
    if isinstance(exc, PaymentRefused):
        return Problem(exc.status, "Payment not accepted", exc.detail)
    return Problem(422, "Payment method not accepted", str(exc))


async def _instrument(request: Request, caller: Principal, method: dict[str, Any], con: Any) -> dict[str, Any]:
    """D16: a bank account by token or by numbers; anything else is refused naming what is accepted."""
    try:
        refuse_non_bank_method(str(method.get("type", "unknown")))
        if token := method.get("instrument_token"):
            account = await repo.bank_account(con, str(token))
            if account is None or account["member_id"] != caller.subject:
                raise PaymentRefused(422, "That saved bank account is not one of yours; add the account again.")
            return {
                "instrument_token": account["instrument_token"],
                "account_last4": account["account_last4"],
                "account_type": account["account_type"],
            }
        account_in = BankAccountIn.model_validate({k: method.get(k, "") for k in BankAccountIn.model_fields})
        account = validate_bank_account(**account_in.model_dump())
        return await _payments(request).vault_account(con, caller.subject, account)
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
    refuse = body.payment_method.get("instrument_token") is None
    try:
        refuse_non_bank_method(str(body.payment_method.get("type", "unknown")))
        dues = await _payments(request).quote(pool, body.enrollment_id, caller.subject)
        if refuse:
            validate_bank_account(
                **BankAccountIn.model_validate(
                    {k: body.payment_method.get(k, "") for k in BankAccountIn.model_fields}
                ).model_dump()
            )
            last4 = str(body.payment_method.get("account_number", ""))[-4:]
        else:
            account = await repo.bank_account(pool, str(body.payment_method["instrument_token"]))
            if account is None or account["member_id"] != caller.subject:
                raise PaymentRefused(422, "That saved bank account is not one of yours; add the account again.")
            last4 = account["account_last4"]
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


@router.post("/payments", status_code=201)
async def submit_payment(
    body: PaymentIn,
    request: Request,
    caller: Caller,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JSONResponse:
    if not idempotency_key:
        raise Problem(
            400,
            "Idempotency-Key required",
            "Send an Idempotency-Key header (a fresh UUID per payment) so a retry never pays twice.",
        )
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    service = request.app.state.service
    async with service.pool.acquire() as con, con.transaction():
        await repo.lock_idempotency_key(con, caller.subject, idempotency_key)
        previous = await repo.idempotent_response(con, caller.subject, idempotency_key)
        if previous is not None:
            if previous["request_hash"] != request_hash:
                raise Problem(
                    422,
                    "Idempotency-Key reused",
                    "This Idempotency-Key was already used for a different payment; use a new key.",
                )
            return JSONResponse(json.loads(previous["response"]), status_code=previous["status_code"])
        instrument = await _instrument(request, caller, body.payment_method, con)
        order = PaymentOrder(
            enrollment_id=body.enrollment_id,
            member_id=caller.subject,
            amount=body.amount,
            instrument_token=instrument["instrument_token"],
            channel="portal",
            sec_code="WEB",
        )
        try:
            row, caused = await _payments(request).accept(con, order)
        except PaymentRefused as exc:
            raise _refused(exc) from exc
        await outbox.add(con, caused)
        response = _payment_view(row)
        await repo.store_idempotent_response(
            con, caller.subject, idempotency_key, request_hash, 201, json.dumps(response)
        )
    return JSONResponse(response, status_code=201)


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
    }


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
