"""`enrollment.events`: published by the upstream enrollment system, keyed by enrollment_id."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr

from premiums_contracts.events.base import CoverageMonth, Event, Money

Product = Literal["health", "dental"]
Subsidy = Literal["none", "aptc", "connectorcare"]
Language = Literal["en", "es"]


class MemberContact(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    first_name: str
    last_name: str
    date_of_birth: date
    email: EmailStr | None = None
    phone: str | None = None
    language: Language = "en"
    zip: str


class _EnrollmentEvent(Event):
    topic = "enrollment.events"


class EnrollmentSubmitted(_EnrollmentEvent):
    enrollment_id: str
    member_id: str
    billing_account: str
    product: Product
    plan_id: str
    plan_name: str
    coverage_start: date
    coverage_end: date
    monthly_premium: Money
    aptc_amount: Money
    subsidy: Subsidy
    binder_due_date: date | None = None
    member: MemberContact
    renewal_of: str | None = None
    """The enrollment this one renews for January 1 (R1.14): a renewal owes no binder; it is billed as a
    continuing enrollment, and an unpaid January makes it delinquent, not cancelled."""


class EnrollmentCancelled(_EnrollmentEvent):
    enrollment_id: str
    member_id: str
    reason: str
    effective_date: date | None = None


class PremiumChanged(_EnrollmentEvent):
    enrollment_id: str
    member_id: str
    effective_month: CoverageMonth
    monthly_premium: Money
    aptc_amount: Money
    subsidy: Subsidy | None = None


class MemberContactChanged(_EnrollmentEvent):
    member_id: str
    member: MemberContact
