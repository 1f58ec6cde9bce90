"""`autopay.events`: published by autopay, keyed by enrollment_id."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime

from premiums_contracts.events.base import CoverageMonth, Event, Money


class _AutopayEvent(Event):
    topic = "autopay.events"


class AutopayEnrolled(_AutopayEvent):
    """N10: what the copy of the authorization tells the member (Reg E 1005.10(b))."""

    mandate_id: str
    enrollment_id: str
    member_id: str
    account_last4: str
    draft_day: int
    account_type: Literal["checking", "savings"] | None = None
    sec_code: Literal["WEB", "PPD"] | None = None
    authorization_text_version: str | None = None
    authorized_at: AwareDatetime | None = None


class AutopayChanged(_AutopayEvent):
    mandate_id: str
    enrollment_id: str
    member_id: str
    account_last4: str
    reason: str
    account_type: Literal["checking", "savings"] | None = None


class AutopayCancelled(_AutopayEvent):
    mandate_id: str
    enrollment_id: str
    member_id: str
    reason: str


class AutopaySuspended(_AutopayEvent):
    mandate_id: str
    enrollment_id: str
    member_id: str
    return_code: str
    reason: str


class AutopayDraftScheduled(_AutopayEvent):
    mandate_id: str
    enrollment_id: str
    coverage_month: CoverageMonth
    draft_date: date
    amount: Money
    amount_changed: bool
    previous_amount: Money | None = None
