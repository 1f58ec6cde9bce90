"""`notifications.events` (keyed by member_id) and `clock.events` (keyed by `clock`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from premiums_contracts.events.base import Event

NoticeChannel = Literal["email", "sms", "print"]


class _NotificationEvent(Event):
    topic = "notifications.events"


class NotificationSent(_NotificationEvent):
    notification_id: str
    member_id: str
    kind: str
    channel: NoticeChannel
    language: Literal["en", "es"]
    triggered_by: str


class NotificationFailed(_NotificationEvent):
    notification_id: str
    member_id: str
    kind: str
    channel: NoticeChannel
    reason: str
    triggered_by: str


class BusinessDateAdvanced(Event):
    topic = "clock.events"

    business_date: date
    previous_date: date | None
