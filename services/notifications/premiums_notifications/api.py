"""notifications' HTTP API: what a member was sent, and how they want to be reached (D14)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from premiums_common.auth import Principal, authenticate
from premiums_common.problems import Problem
from pydantic import BaseModel, ConfigDict, Field

from premiums_notifications import repository as repo
from premiums_notifications.domain.kinds import LEGALLY_REQUIRED
from premiums_notifications.domain.preferences import Preferences, language_of

router = APIRouter(prefix="/v1", tags=["notifications"])
Caller = Annotated[Principal, Depends(authenticate)]
ChannelName = Literal["email", "sms", "print"]


class PreferencesBody(BaseModel):
    """Delivery settings: the language of notices, the channels, paper copies and due-date reminders."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["en", "es"] | None = None
    channels: list[ChannelName] = Field(default_factory=lambda: list[ChannelName](["email"]))
    paperless: bool = True
    reminders_opt_out: bool = False


def _allowed(caller: Principal, member_id: str) -> None:
    if not caller.may_act_for(member_id):
        raise Problem(403, "Forbidden", "You can only see or change your own notices and delivery settings.")


def _view(member_id: str, prefs: Preferences, contact_language: str | None) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "language": language_of(prefs, contact_language),
        "channels": list(prefs.channels),
        "paperless": prefs.paperless,
        "reminders_opt_out": prefs.reminders_opt_out,
        "always_sent": sorted(LEGALLY_REQUIRED, key=lambda k: int(k[1:])),
    }


@router.get("/members/{member_id}/preferences")
async def get_preferences(member_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    _allowed(caller, member_id)
    pool = request.app.state.service.pool
    return _view(member_id, await repo.preferences_of(pool, member_id), await repo.contact_language(pool, member_id))


@router.put("/members/{member_id}/preferences")
async def put_preferences(member_id: str, body: PreferencesBody, request: Request, caller: Caller) -> dict[str, Any]:
    """Legally required notices (D14: N6-N8, N10, N12, N13) still go out whatever is chosen here."""
    _allowed(caller, member_id)
    prefs = Preferences(
        language=body.language,
        channels=tuple(dict.fromkeys(body.channels)),
        paperless=body.paperless,
        reminders_opt_out=body.reminders_opt_out,
    )
    pool = request.app.state.service.pool
    await repo.save_preferences(pool, member_id, prefs, caller.subject)
    return _view(member_id, prefs, await repo.contact_language(pool, member_id))


@router.get("/members/{member_id}/notifications")
async def member_notifications(member_id: str, request: Request, caller: Caller) -> list[dict[str, Any]]:
    _allowed(caller, member_id)
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
            "attempts": r["attempts"],
            "triggered_by": r["triggered_by"],
            "provider_response": r["provider_response"],
        }
        for r in rows
    ]
