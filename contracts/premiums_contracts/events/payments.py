"""`payments.commands` and `payments.events`, keyed by enrollment_id."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime

from premiums_contracts.events.base import CoverageMonth, Event, Money

Channel = Literal["portal", "guest", "phone", "mail", "autopay"]
Method = Literal["ach_debit", "check", "money_order"]


class RequestPayment(Event):
    """A command: autopay (or another internal system) asks payments to draft an account."""

    topic = "payments.commands"

    request_id: str
    enrollment_id: str
    amount: Money
    instrument_token: str
    sec_code: Literal["WEB", "PPD", "TEL"]
    payment_type: Literal["S", "R"]
    entry_description: Literal["HLTH PREM", "RETRY PYMT"]
    origin: str
    reinitiation_of: str | None = None
    coverage_month: CoverageMonth | None = None
    effective_date: date | None = None
    """The business date the draft is for; payments never dates the debit earlier than this."""


class _PaymentEvent(Event):
    topic = "payments.events"


class PaymentSubmitted(_PaymentEvent):
    payment_id: str
    confirmation_number: str
    enrollment_id: str
    member_id: str
    amount: Money
    channel: Channel
    method: Method
    account_last4: str | None
    received_at: AwareDatetime
    business_date: date
    coverage_month: CoverageMonth | None = None
    request_id: str | None = None


class PaymentCleared(_PaymentEvent):
    payment_id: str
    enrollment_id: str
    amount: Money
    cleared_on: date
    member_id: str | None = None


class PaymentReturned(_PaymentEvent):
    payment_id: str
    enrollment_id: str
    amount: Money
    return_code: str
    return_reason: str
    returned_on: date
    retry_eligible: bool
    member_id: str | None = None
    binder: bool | None = None
    channel: Channel | None = None
    instrument_token: str | None = None
    account_last4: str | None = None


class PaymentUnapplied(_PaymentEvent):
    payment_id: str
    amount: Money
    reason: str
    received_on: date
    enrollment_id: str | None = None


class BankAccountChanged(_PaymentEvent):
    """A Notification of Change (R5.14) updated a vaulted account; only the token and last four travel."""

    instrument_token: str
    enrollment_id: str
    change_code: str
    account_last4: str
    account_type: Literal["checking", "savings"] | None = None
