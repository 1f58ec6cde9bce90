"""autopay's HTTP API: AutoPay mandates (ARCHITECTURE §3), and what a draft would take today."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from premiums_common import outbox
from premiums_common.auth import Principal, authenticate
from premiums_common.problems import Problem
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from premiums_autopay import repository as repo
from premiums_autopay.adapters.payments_client import PaymentsClient, PaymentsUnavailable
from premiums_autopay.domain.drafts import draft_amount
from premiums_autopay.domain.mandates import MandateRefused, refuse_account_numbers
from premiums_autopay.handlers import Autopay, MandateRequest, view

router = APIRouter(prefix="/v1", tags=["autopay"])
Caller = Annotated[Principal, Depends(authenticate)]
NOT_FOUND = "We could not find that enrollment for you."


class MandateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrollment_id: str = Field(min_length=1, max_length=64)
    instrument_token: str = Field(min_length=1, max_length=128)
    authorization_text_version: str = Field(min_length=1, max_length=64)
    channel: Literal["portal", "paper"] = "portal"


def _autopay(request: Request) -> Autopay:
    return request.app.state.autopay  # type: ignore[no-any-return]


def _payments(request: Request) -> PaymentsClient:
    return request.app.state.payments_client  # type: ignore[no-any-return]


@router.post("/autopay", status_code=201)
async def set_up_autopay(request: Request, caller: Caller, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Set up AutoPay (or change its account) for one enrollment, from a saved bank account's token."""
    try:
        refuse_account_numbers(body)
        order = MandateIn.model_validate(body)
    except MandateRefused as exc:
        raise Problem(422, "Account numbers are not accepted here", str(exc)) from exc
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:5])
        raise Problem(422, "Invalid AutoPay request", f"Check these fields: {fields}.") from exc
    if order.channel == "paper" and caller.role == "member":
        raise Problem(403, "Forbidden", "A paper AutoPay form is entered by Health Connector staff.")
    pool = request.app.state.service.pool
    billing = await repo.billing(pool, order.enrollment_id)
    if billing is None or not caller.may_act_for(billing["member_id"]):
        raise Problem(404, "Not found", NOT_FOUND)
    bearer = request.headers["authorization"].partition(" ")[2]
    try:
        account = await _payments(request).bank_account(order.instrument_token, bearer)
    except PaymentsUnavailable as exc:
        raise Problem(503, "Try again shortly", "We could not reach the payments system to check the account.") from exc
    if account is None or account.member_id != billing["member_id"]:
        raise Problem(422, "Unknown bank account", "That saved bank account is not one of yours; add it again.")
    mandate_request = MandateRequest(
        enrollment_id=order.enrollment_id,
        member_id=billing["member_id"],
        instrument_token=account.instrument_token,
        account_last4=account.account_last4,
        account_type=account.account_type,
        validated=account.validated,
        channel=order.channel,
        authorization_text_version=order.authorization_text_version,
        authorized_by=caller.subject,
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    async with pool.acquire() as con, con.transaction():
        shown, caused = await _autopay(request).set_up(con, mandate_request)
        await outbox.add(con, caused)
    return shown


@router.get("/autopay")
async def list_autopay(
    request: Request, caller: Caller, enrollment_id: Annotated[str, Query()]
) -> list[dict[str, Any]]:
    """Every mandate of an enrollment, newest first (at most one is live)."""
    pool = request.app.state.service.pool
    mandates = await repo.mandates_of(pool, enrollment_id)
    billing = await repo.billing(pool, enrollment_id)
    owner = billing["member_id"] if billing is not None else (mandates[0]["member_id"] if mandates else None)
    if owner is None or not caller.may_act_for(owner):
        raise Problem(404, "Not found", NOT_FOUND)
    return [view(m, await repo.latest_authorization(pool, m["mandate_id"])) for m in mandates]


@router.delete("/autopay/{mandate_id}")
async def cancel_autopay(mandate_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    """Revoke AutoPay (N11); a draft already sent to the bank is not recalled."""
    pool = request.app.state.service.pool
    async with pool.acquire() as con, con.transaction():
        mandate = await repo.mandate(con, mandate_id, lock=True)
        if mandate is None or not caller.may_act_for(mandate["member_id"]):
            raise Problem(404, "Not found", "We could not find that AutoPay for you.")
        if mandate["status"] in ("cancelled", "revoked"):
            return view(mandate, await repo.latest_authorization(con, mandate_id))
        caused = await _autopay(request).cancel(con, mandate, caller.subject)
        await outbox.add(con, caused)
        cancelled = await repo.mandate(con, mandate_id)
        assert cancelled is not None
        return view(cancelled, await repo.latest_authorization(con, mandate_id))


@router.get("/billing/{enrollment_id}")
async def billing_state(enrollment_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    row = await repo.billing(request.app.state.service.pool, enrollment_id)
    if row is None or not caller.may_act_for(row["member_id"]):
        raise Problem(404, "Not found", NOT_FOUND)
    return {
        "enrollment_id": enrollment_id,
        "coverage_month": row["coverage_month"],
        "due_date": row["due_date"].isoformat(),
        "total_due": f"{row['total_due']:.2f}",
        "paid": f"{row['paid']:.2f}",
        "draft_amount": f"{draft_amount(row['total_due'], row['paid']):.2f}",
        "draft_on": row["draft_on"].isoformat() if row["draft_on"] else None,
        "status": row["status"],
    }
