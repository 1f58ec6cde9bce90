"""autopay's HTTP API: what a draft would take today for an enrollment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from premiums_common.auth import Principal, authenticate
from premiums_common.problems import Problem

router = APIRouter(prefix="/v1", tags=["autopay"])
Caller = Annotated[Principal, Depends(authenticate)]


@router.get("/billing/{enrollment_id}")
async def billing_state(enrollment_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    row = await request.app.state.service.pool.fetchrow(
        "SELECT * FROM billing_state WHERE enrollment_id = $1", enrollment_id
    )
    if row is None or not caller.may_act_for(row["member_id"]):
        raise Problem(404, "Not found", "We could not find that enrollment for you.")
    remaining = max(row["total_due"] - row["paid"], 0)
    return {
        "enrollment_id": enrollment_id,
        "coverage_month": row["coverage_month"],
        "due_date": row["due_date"].isoformat(),
        "total_due": f"{row['total_due']:.2f}",
        "paid": f"{row['paid']:.2f}",
        "draft_amount": f"{remaining:.2f}",
        "status": row["status"],
    }
