"""Effectuation: when a binder (first) payment activates coverage (R1.9, R1.10, D3, D4, R5.17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class BinderPayment:
    amount: Decimal
    accepted_on: date
    cleared: bool


def activates_at_once(monthly_premium: Decimal) -> bool:
    """D4/R3.2: a $0-premium enrollment is effectuated at plan selection, with no binder."""
    return monthly_premium == 0


def binder_paid_on_time(binder_amount: Decimal, due_date: date, payments: list[BinderPayment]) -> bool:
    """R1.9: the first month is paid in full by its due date, counting payments when accepted (D1)."""
    on_time = sum((p.amount for p in payments if p.accepted_on <= due_date), Decimal(0))
    return on_time >= binder_amount


def binder_cleared(binder_amount: Decimal, due_date: date, payments: list[BinderPayment]) -> bool:
    """The binder activates coverage once the on-time money that pays it has cleared the bank (R5.17)."""
    cleared = [p for p in payments if p.cleared]
    return binder_paid_on_time(binder_amount, due_date, cleared)


def binder_return_cancels(status: str, binder_due: date, today: date, still_paid_on_time: bool) -> bool:
    """D7/R5.18: a returned binder cancels the enrollment (never effectuated), even after activation,
    unless other money still pays the first month on time, or the member can still pay before the
    binder due date (R5.11: a binder is never retried; the member pays again)."""
    if still_paid_on_time:
        return False
    if status == "pending_binder":
        return today > binder_due
    return status in ("active", "delinquent")
