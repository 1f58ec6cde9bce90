"""The notice catalogue (DOMAIN §6, N1-N15): which event triggers which notice, and the facts it carries.

Every notice has a dedupe key of (notice, member, subject entity, coverage month or triggering fact), so it
exists once however often Kafka delivers the event that triggers it (issue 6: exactly once). Facts are plain
strings: money with two decimals, dates `YYYY-MM-DD`, months `YYYY-MM`, never a full account number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from premiums_contracts.events import (
    AccountDelinquent,
    AutopayCancelled,
    AutopayChanged,
    AutopayDraftScheduled,
    AutopayEnrolled,
    AutopaySuspended,
    BankAccountChanged,
    CoverageActivated,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
    PaymentReturned,
    PaymentSubmitted,
)

from premiums_notifications.domain.kinds import NOT_EFFECTUATED
from premiums_notifications.domain.reminders import OpenBill
from premiums_notifications.domain.returns import account_disabled, is_check, return_reason


@dataclass(frozen=True)
class Notice:
    kind: str
    member_id: str
    dedupe_key: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class PaymentFacts:
    """What notifications learned about a payment when it was submitted (for N13/N14)."""

    method: str | None = None
    coverage_month: str | None = None
    account_last4: str | None = None
    confirmation_number: str | None = None


@dataclass(frozen=True)
class BillFacts:
    """The open bill of the month a returned payment paid, if notifications saw it issued."""

    due_date: date | None = None
    total_due: Decimal | None = None


def dedupe_key(kind: str, member_id: str, subject: str, *qualifiers: str) -> str:
    """One notice per (kind, member, subject entity, month or triggering fact)."""
    return ":".join((kind, member_id, subject, *qualifiers))


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def binder_invoice(e: InvoiceIssued) -> Notice | None:
    """N1: the enrollment bill after plan selection, due the 23rd of the month before the start (R1.9)."""
    if not e.binder:
        return None
    return Notice("N1", e.member_id, dedupe_key("N1", e.member_id, e.enrollment_id, e.coverage_month), _bill(e))


def monthly_bill(e: InvoiceIssued) -> Notice | None:
    """N3: the monthly bill issued on the 1st for next month's coverage, due the 23rd (R1.4)."""
    if e.binder:
        return None
    return Notice("N3", e.member_id, dedupe_key("N3", e.member_id, e.enrollment_id, e.coverage_month), _bill(e))


def invoice_notice(e: InvoiceIssued) -> Notice:
    """N1 for a binder invoice, N3 for every later bill."""
    notice = binder_invoice(e) or monthly_bill(e)
    assert notice is not None
    return notice


def _bill(e: InvoiceIssued) -> dict[str, Any]:
    return {
        "enrollment_id": e.enrollment_id,
        "coverage_month": e.coverage_month,
        "due_date": e.due_date.isoformat(),
        "amount_due": _money(e.amount_due),
        "past_due": _money(e.past_due),
        "total_due": _money(e.total_due),
        "billing_account": e.billing_account,
        "product": e.product or "health",
    }


def payment_confirmation(e: PaymentSubmitted) -> Notice:
    """N4: on every accepted payment, with its confirmation number, amount and coverage month."""
    facts = {
        "payment_id": e.payment_id,
        "confirmation_number": e.confirmation_number,
        "amount": _money(e.amount),
        "enrollment_id": e.enrollment_id,
        "coverage_month": e.coverage_month,
        "account_last4": e.account_last4,
        "received_on": e.business_date.isoformat(),
        "channel": e.channel,
        "method": e.method,
    }
    return Notice("N4", e.member_id, dedupe_key("N4", e.member_id, e.payment_id), facts)


def coverage_activated(e: CoverageActivated) -> Notice:
    """N2: the welcome letter once the binder is confirmed and coverage is active (R1.12)."""
    facts = {
        "enrollment_id": e.enrollment_id,
        "coverage_start": e.coverage_start.isoformat(),
        "paid_through": e.paid_through.isoformat(),
        "plan_name": e.plan_name,
        "product": e.product or "health",
    }
    return Notice(
        "N2", e.member_id, dedupe_key("N2", e.member_id, e.enrollment_id, e.coverage_start.isoformat()), facts
    )


def not_effectuated(e: EnrollmentCancelledNoBinder) -> Notice:
    """N1C: the binder was not paid in full by its due date, so coverage never started (R1.9, R1.10, D3)."""
    facts = {"enrollment_id": e.enrollment_id, "coverage_start": e.coverage_start.isoformat(), "reason": e.reason}
    key = dedupe_key(NOT_EFFECTUATED, e.member_id, e.enrollment_id, e.coverage_start.isoformat())
    return Notice(NOT_EFFECTUATED, e.member_id, key, facts)


def delinquency_warning(e: AccountDelinquent) -> Notice:
    """N6 (past-due warning) or N7 (termination warning #1/#2), once per notice of a delinquency (R2.7, R2.8)."""
    kind = "N6" if e.notice == "past_due_warning" else "N7"
    facts = {
        "enrollment_id": e.enrollment_id,
        "first_unpaid_month": e.first_unpaid_month,
        "amount_past_due": _money(e.amount_past_due),
        "pay_by": e.pay_by.isoformat(),
        "warning": e.notice,
        "final": e.notice == "termination_warning_2",
    }
    return Notice(
        kind, e.member_id, dedupe_key(kind, e.member_id, e.enrollment_id, e.first_unpaid_month, e.notice), facts
    )


def terminated(e: CoverageTerminated) -> Notice:
    """N8: termination for non-payment, with the retro end date, the reason and the reinstatement right (R2.10)."""
    facts = {
        "enrollment_id": e.enrollment_id,
        "end_date": e.end_date.isoformat(),
        "reason": e.reason,
        "reinstate_by": e.reinstate_by.isoformat() if e.reinstate_by else None,
    }
    return Notice("N8", e.member_id, dedupe_key("N8", e.member_id, e.enrollment_id, e.end_date.isoformat()), facts)


def reinstated(e: CoverageReinstated) -> Notice:
    """N9: the reinstatement request and payment were accepted within 35 days (R2.10)."""
    facts = {"enrollment_id": e.enrollment_id, "paid_through": e.paid_through.isoformat()}
    return Notice("N9", e.member_id, dedupe_key("N9", e.member_id, e.enrollment_id, e.paid_through.isoformat()), facts)


def autopay_enrolled(e: AutopayEnrolled) -> Notice:
    """N10: the copy of the AutoPay authorization (Reg E 1005.10(b)): account, draft day, amount basis, revoking."""
    facts = {
        "enrollment_id": e.enrollment_id,
        "mandate_id": e.mandate_id,
        "account_last4": e.account_last4,
        "draft_day": e.draft_day,
    }
    return Notice("N10", e.member_id, dedupe_key("N10", e.member_id, e.mandate_id), facts)


def autopay_changed(e: AutopayChanged, triggered_by: str) -> Notice:
    """N11: each change of a mandate is its own fact, so the triggering event names it."""
    facts = {
        "enrollment_id": e.enrollment_id,
        "mandate_id": e.mandate_id,
        "account_last4": e.account_last4,
        "reason": e.reason,
        "change": "changed",
    }
    return Notice("N11", e.member_id, dedupe_key("N11", e.member_id, e.mandate_id, "changed", triggered_by), facts)


def autopay_cancelled(e: AutopayCancelled) -> Notice:
    """N11: a mandate is revoked once."""
    facts = {"enrollment_id": e.enrollment_id, "mandate_id": e.mandate_id, "reason": e.reason, "change": "cancelled"}
    return Notice("N11", e.member_id, dedupe_key("N11", e.member_id, e.mandate_id, "cancelled"), facts)


def autopay_suspended(e: AutopaySuspended, triggered_by: str) -> Notice:
    """N11: a mandate suspended after a return (R5.9); each suspension is its own fact."""
    facts = {
        "enrollment_id": e.enrollment_id,
        "mandate_id": e.mandate_id,
        "return_code": e.return_code,
        "return_reason": return_reason(e.return_code),
        "reason": e.reason,
        "change": "suspended",
    }
    key = dedupe_key("N11", e.member_id, e.mandate_id, "suspended", triggered_by)
    return Notice("N11", e.member_id, key, facts)


def upcoming_draft(e: AutopayDraftScheduled, member_id: str) -> Notice:
    """N12 when the amount differs from the last draft (Reg E 1005.10(d), >= 10 days ahead), else the N5
    upcoming-draft notice AutoPay members get instead of due-date reminders (D13). Once per mandate and month."""
    kind = "N12" if e.amount_changed else "N5"
    facts = {
        "enrollment_id": e.enrollment_id,
        "mandate_id": e.mandate_id,
        "coverage_month": e.coverage_month,
        "draft_date": e.draft_date.isoformat(),
        "amount": _money(e.amount),
        "previous_amount": _money(e.previous_amount) if e.previous_amount is not None else None,
        "reminder": "autopay",
    }
    return Notice(kind, member_id, dedupe_key(kind, member_id, e.mandate_id, e.coverage_month, "draft"), facts)


def payment_returned(e: PaymentReturned, member_id: str, payment: PaymentFacts, bill: BillFacts) -> Notice:
    """N13 (an ACH debit came back) or N14 (a check came back unpaid): what failed, why in plain language,
    that the month is unpaid again (D7), the amount and deadline, and whether a retry is scheduled (D10)."""
    kind = "N14" if is_check(payment.method) else "N13"
    facts = {
        "enrollment_id": e.enrollment_id,
        "payment_id": e.payment_id,
        "confirmation_number": payment.confirmation_number,
        "amount": _money(e.amount),
        "returned_on": e.returned_on.isoformat(),
        "return_code": e.return_code,
        "return_reason": return_reason(e.return_code),
        "retry_scheduled": e.retry_eligible,
        "account_disabled": account_disabled(e.return_code),
        "account_last4": payment.account_last4,
        "coverage_month": payment.coverage_month,
        "pay_by": bill.due_date.isoformat() if bill.due_date else None,
        "amount_due": _money(bill.total_due) if bill.total_due is not None else _money(e.amount),
    }
    return Notice(kind, member_id, dedupe_key(kind, member_id, e.payment_id, e.return_code), facts)


def bank_account_changed(e: BankAccountChanged, member_id: str, triggered_by: str) -> Notice:
    """N15: the bank sent a Notification of Change (R5.14) and we updated the account on file."""
    facts = {
        "enrollment_id": e.enrollment_id,
        "change_code": e.change_code,
        "account_last4": e.account_last4,
        "account_type": e.account_type,
    }
    key = dedupe_key("N15", member_id, e.instrument_token, e.change_code, triggered_by)
    return Notice("N15", member_id, key, facts)


def due_date_reminder(bill: OpenBill, days_before: int) -> Notice:
    """N5: a due-date reminder `days_before` the due date of an unpaid bill (D13); once per bill and day."""
    facts = {
        "enrollment_id": bill.enrollment_id,
        "coverage_month": bill.coverage_month,
        "due_date": bill.due_date.isoformat(),
        "total_due": bill.total_due,
        "days_before": days_before,
        "binder": bill.binder,
        "reminder": "binder" if bill.binder else "monthly",
    }
    key = dedupe_key("N5", bill.member_id, bill.enrollment_id, bill.coverage_month, f"{days_before}d")
    return Notice("N5", bill.member_id, key, facts)
