"""coverage's HTTP read API (ARCHITECTURE §3): a member sees only their own enrollments."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from premiums_common import outbox
from premiums_common.auth import Principal, authenticate
from premiums_common.outbox import Outgoing, envelope_for
from premiums_common.problems import Problem
from premiums_contracts.events import CoverageReinstated, ReinstatementRequested

from premiums_coverage import repository as repo
from premiums_coverage.domain.calendar import add_months, monthly_due_date
from premiums_coverage.domain.ledger import allocate, balance
from premiums_coverage.domain.reinstatement import reinstatement_quote, still_to_pay, within_window
from premiums_coverage.standing import reinstate_if_paid

router = APIRouter(prefix="/v1", tags=["coverage"])
Caller = Annotated[Principal, Depends(authenticate)]

NOT_FOUND = "We could not find that enrollment for you."


async def _owned(request: Request, enrollment_id: str, caller: Principal) -> Any:
    row = await repo.enrollment(request.app.state.service.pool, enrollment_id)
    if row is None or not caller.may_act_for(row["member_id"]):
        raise Problem(404, "Not found", NOT_FOUND)
    return row


async def _view(request: Request, row: Any) -> dict[str, Any]:
    pool = request.app.state.service.pool
    charges = await repo.charges(pool, row["enrollment_id"])
    received = await repo.received_total(pool, row["enrollment_id"])
    allocation = allocate(charges, received)
    owed = balance(charges, received)
    next_month = allocation.open_months[0] if allocation.open_months else None
    if row["status"] == "pending_binder":
        next_due = row["binder_due_date"]
    elif row["status"] == "delinquent" and row["notice_pay_by"] is not None:
        next_due = row["notice_pay_by"]
    elif row["status"] in ("active", "delinquent"):
        paid = row["paid_through"] or row["coverage_start"] - timedelta(days=1)  # a renewal before it pays (R1.14)
        next_due = monthly_due_date(add_months(paid.replace(day=1), 1))
    else:
        next_due = None
    return {
        "enrollment_id": row["enrollment_id"],
        "member_id": row["member_id"],
        "billing_account": row["billing_account"],
        "product": row["product"],
        "plan_name": row["plan_name"],
        "subsidy": row["subsidy"],
        "status": row["status"],
        "coverage_start": row["coverage_start"].isoformat(),
        "coverage_end": row["coverage_end"].isoformat(),
        "paid_through": row["paid_through"].isoformat() if row["paid_through"] else None,
        "balance": f"{owed:.2f}",
        "amount_due": f"{max(owed, 0):.2f}",
        "next_due_date": next_due.isoformat() if next_due else None,
        "first_unpaid_month": next_month,
        "monthly_premium": f"{row['monthly_premium']:.2f}",
        "end_date": row["end_date"].isoformat() if row["end_date"] else None,
        "reinstate_by": row["reinstate_by"].isoformat() if row["reinstate_by"] else None,
    }


@router.get("/enrollments/{enrollment_id}")
async def get_enrollment(enrollment_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    return await _view(request, await _owned(request, enrollment_id, caller))


@router.get("/enrollments/{enrollment_id}/invoices")
async def get_invoices(enrollment_id: str, request: Request, caller: Caller) -> list[dict[str, Any]]:
    await _owned(request, enrollment_id, caller)
    rows = await repo.invoices(request.app.state.service.pool, enrollment_id)
    return [
        {
            "invoice_id": r["invoice_id"],
            "coverage_month": r["coverage_month"],
            "due_date": r["due_date"].isoformat(),
            "amount_due": f"{r['amount_due']:.2f}",
            "past_due": f"{r['past_due']:.2f}",
            "total_due": f"{r['total_due']:.2f}",
            "binder": r["binder"],
            "issued_on": r["issued_on"].isoformat(),
        }
        for r in rows
    ]


@router.get("/members/{member_id}/enrollments")
async def get_member_enrollments(member_id: str, request: Request, caller: Caller) -> list[dict[str, Any]]:
    if not caller.may_act_for(member_id):
        raise Problem(403, "Forbidden", "You can only see your own enrollments.")
    rows = await repo.member_enrollments(request.app.state.service.pool, member_id)
    return [await _view(request, r) for r in rows]


@router.post("/enrollments/{enrollment_id}/reinstatement", status_code=201)
async def request_reinstatement(enrollment_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    """R2.10/D8: within 35 days of the termination notice, the member (or staff for them) asks to be
    reinstated; the answer is what must be paid, and by when. Money already received counts."""
    row = await _owned(request, enrollment_id, caller)
    service = request.app.state.service
    today = service.clock.today()
    if row["status"] != "terminated" or not (row["termination_reason"] or "").startswith("non_payment"):
        raise Problem(409, "Not reinstatable", "Only coverage ended for non-payment can be reinstated.")
    if not within_window(today, row["reinstate_by"]):
        raise Problem(
            409,
            "Too late",
            f"Reinstatement had to be requested by {row['reinstate_by']:%B %-d, %Y}, "
            "within 35 days of the termination notice.",
        )
    async with service.pool.acquire() as con, con.transaction():
        row = await repo.enrollment(con, enrollment_id, lock=True)
        charges = await repo.charges(con, enrollment_id)
        received = await repo.received_total(con, enrollment_id)
        quote = reinstatement_quote(row["end_date"], today, row["monthly_premium"], balance(charges, received))
        await repo.save_reinstatement_request(
            con,
            enrollment_id,
            today,
            caller.subject,
            quote.months,
            row["monthly_premium"],
            quote.amount_required,
            row["reinstate_by"],
        )
        reinstated = await reinstate_if_paid(con, row, today)
        still_owed = still_to_pay(balance(charges, received), quote, row["monthly_premium"])
        event: CoverageReinstated | ReinstatementRequested = reinstated or ReinstatementRequested(
            enrollment_id=enrollment_id,
            member_id=row["member_id"],
            months=list(quote.months),
            amount_required=quote.amount_required,
            amount_due=still_owed,
            pay_by=row["reinstate_by"],
        )
        await outbox.add(con, [Outgoing(event, envelope_for(event, source=service.source, key=enrollment_id))])
    return {
        "enrollment_id": enrollment_id,
        "status": "reinstated" if reinstated else "requested",
        "amount_required": f"{quote.amount_required:.2f}",
        "amount_due": f"{still_owed:.2f}",
        "months": list(quote.months),
        "pay_by": row["reinstate_by"].isoformat(),
    }
