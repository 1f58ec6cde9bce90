"""`autopay.events`: published by autopay, keyed by enrollment_id."""

from __future__ import annotations

from datetime import date

from premiums_contracts.events.base import CoverageMonth, Event, Money


class _AutopayEvent(Event):
    topic = "autopay.events"


class AutopayEnrolled(_AutopayEvent):
    mandate_id: str
    enrollment_id: str
    member_id: str
    account_last4: str
    draft_day: int


class AutopayChanged(_AutopayEvent):
    mandate_id: str
    enrollment_id: str
    member_id: str
    account_last4: str
    reason: str


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
