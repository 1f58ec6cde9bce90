"""notifications' HTTP API: what a member was sent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from premiums_common.auth import Principal, authenticate
from premiums_common.problems import Problem

from premiums_notifications import repository as repo

router = APIRouter(prefix="/v1", tags=["notifications"])
Caller = Annotated[Principal, Depends(authenticate)]


@router.get("/members/{member_id}/notifications")
async def member_notifications(member_id: str, request: Request, caller: Caller) -> list[dict[str, Any]]:
    if not caller.may_act_for(member_id):
        raise Problem(403, "Forbidden", "You can only see your own notices.")
    rows = await repo.of_member(request.app.state.service.pool, member_id)
    return [
        {
            "notification_id": r["notification_id"],
            "kind": r["kind"],
            "channel": r["channel"],
            "status": r["status"],
            "language": r["language"],
            "subject": r["subject"],
            "created_at": r["created_at"].isoformat(),
            "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None,
            "provider_response": r["provider_response"],
        }
        for r in rows
    ]
