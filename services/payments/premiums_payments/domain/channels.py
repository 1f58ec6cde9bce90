"""Staff channels: phone (SEC TEL, R5.3) and mail (check or money order, D1), and closed enrollments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from premiums_common.banking_days import next_banking_day

CUSTOMER_SERVICE_PHONE = "1-877-623-6765"
MAIL_METHODS = ("check", "money_order")


class ChannelRefused(ValueError):
    pass


@dataclass(frozen=True)
class TelAuthorization:
    """R5.3: what a single-entry TEL debit's oral authorization must record."""

    authorized_on: date
    amount: Decimal
    consumer_name: str
    single_entry: bool
    recording_reference: str | None = None
    written_notice_reference: str | None = None
    customer_service_phone: str = CUSTOMER_SERVICE_PHONE


def check_tel_authorization(auth: TelAuthorization, *, amount: Decimal, today: date) -> None:
    """R5.3: same amount, a named consumer, a single-entry statement, and a recording or a written notice."""
    if auth.amount != amount:
        raise ChannelRefused("The authorized amount must be the amount of the payment.")
    if not auth.consumer_name.strip():
        raise ChannelRefused("Record the name of the person who authorized the payment on the call.")
    if not auth.single_entry:
        raise ChannelRefused("Read the single-entry statement to the caller and record that they agreed to it.")
    if not (auth.recording_reference or auth.written_notice_reference):
        raise ChannelRefused(
            "A phone payment needs the call recording reference or the written notice sent to the member."
        )
    if auth.authorized_on > today:
        raise ChannelRefused("The authorization date cannot be in the future.")


def check_mail_payment(method: str, check_number: str | None, received_on: date, *, today: date) -> None:
    """D1: a check or money order counts as received on its deposit date, which cannot be in the future."""
    if method not in MAIL_METHODS:
        raise ChannelRefused("By mail we accept a check or a money order.")
    if method == "check" and not (check_number and check_number.strip()):
        raise ChannelRefused("Enter the check number printed on the check.")
    if received_on > today:
        raise ChannelRefused("The deposit date cannot be after today.")


def mail_clears_on(received_on: date) -> date:
    """Decision (sandbox): a deposited check or money order clears on the banking day after its deposit."""
    return next_banking_day(received_on)


CLOSED_REASONS = {
    "cancelled_no_binder": (
        "This enrollment was cancelled because the first payment was not received by its due date, "
        "so it cannot take new payments. Contact Customer Service to choose a plan again."
    ),
    "terminated": (
        "Coverage for this enrollment has ended, so it cannot take new payments here. "
        "To ask about reinstatement, contact Customer Service at 1-877-623-6765."
    ),
}


def closed_enrollment_reason(kind: str) -> str:
    """R1.10, R2.7/R2.8: a cancelled or terminated enrollment takes no new payments."""
    return CLOSED_REASONS[kind]
