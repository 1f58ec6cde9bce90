"""The notice catalogue (DOMAIN §6): which event triggers which notice, and the facts it carries.

Each notice has a dedupe key of (member, notice, subject entity), so it exists once however often the
triggering event is delivered (issue: exactly once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from premiums_contracts.events import CoverageActivated, InvoiceIssued, PaymentSubmitted


@dataclass(frozen=True)
class Notice:
    kind: str
    member_id: str
    dedupe_key: str
    facts: dict[str, Any]


def binder_invoice(e: InvoiceIssued) -> Notice | None:
    """N1: the enrollment bill after plan selection, due the 23rd of the month before the start."""
    if not e.binder:
        return None
    facts = {
        "enrollment_id": e.enrollment_id,
        "coverage_month": e.coverage_month,
        "due_date": e.due_date.isoformat(),
        "total_due": f"{e.total_due:.2f}",
        "billing_account": e.billing_account,
    }
    return Notice("N1", e.member_id, f"N1:{e.member_id}:{e.enrollment_id}:{e.coverage_month}", facts)


def payment_confirmation(e: PaymentSubmitted) -> Notice:
    """N4: on every accepted payment, with its confirmation number, amount and coverage month."""
    facts = {
        "payment_id": e.payment_id,
        "confirmation_number": e.confirmation_number,
        "amount": f"{e.amount:.2f}",
        "enrollment_id": e.enrollment_id,
        "coverage_month": e.coverage_month,
        "account_last4": e.account_last4,
        "received_on": e.business_date.isoformat(),
        "channel": e.channel,
    }
    return Notice("N4", e.member_id, f"N4:{e.member_id}:{e.payment_id}", facts)


def coverage_activated(e: CoverageActivated) -> Notice:
    """N2: the welcome letter once the binder is confirmed and coverage is active."""
    facts = {
        "enrollment_id": e.enrollment_id,
        "coverage_start": e.coverage_start.isoformat(),
        "paid_through": e.paid_through.isoformat(),
        "plan_name": e.plan_name,
        "product": e.product,
    }
    return Notice("N2", e.member_id, f"N2:{e.member_id}:{e.enrollment_id}:{e.coverage_start.isoformat()}", facts)
