"""`coverage.events`: published by coverage, keyed by enrollment_id."""

from __future__ import annotations

from datetime import date
from typing import Literal

from premiums_contracts.events.base import CoverageMonth, Event, Money


class _CoverageEvent(Event):
    topic = "coverage.events"


class InvoiceIssued(_CoverageEvent):
    invoice_id: str
    enrollment_id: str
    member_id: str
    coverage_month: CoverageMonth
    due_date: date
    amount_due: Money
    past_due: Money
    total_due: Money
    binder: bool
    billing_account: str | None = None
    product: Literal["health", "dental"] | None = None


class CoverageActivated(_CoverageEvent):
    enrollment_id: str
    member_id: str
    coverage_start: date
    paid_through: date
    payment_id: str | None
    plan_name: str | None = None
    product: Literal["health", "dental"] | None = None


class EnrollmentCancelledNoBinder(_CoverageEvent):
    enrollment_id: str
    member_id: str
    coverage_start: date
    reason: str


class PaymentApplied(_CoverageEvent):
    payment_id: str
    enrollment_id: str
    member_id: str
    amount: Money
    months_paid: list[CoverageMonth]
    paid_through: date | None
    balance: Money


class AccountDelinquent(_CoverageEvent):
    enrollment_id: str
    member_id: str
    first_unpaid_month: CoverageMonth
    amount_past_due: Money
    pay_by: date
    notice: Literal["past_due_warning", "termination_warning_1", "termination_warning_2"]


class CoverageTerminated(_CoverageEvent):
    enrollment_id: str
    member_id: str
    end_date: date
    reason: str
    reinstate_by: date | None


class CoverageReinstated(_CoverageEvent):
    enrollment_id: str
    member_id: str
    paid_through: date


class ReinstatementRequested(_CoverageEvent):
    """R2.10/D8: a terminated member asked to be reinstated; paying `amount_due` by `pay_by` reinstates.

    Payment channels that refuse payments on terminated enrollments should accept them again until `pay_by`.
    """

    enrollment_id: str
    member_id: str
    months: list[CoverageMonth]
    amount_required: Money
    amount_due: Money
    pay_by: date
