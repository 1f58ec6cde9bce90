"""The monthly bill (R1.1, R1.4, R1.6, R3.2/D4, N3): issued on the 1st for the next coverage month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from premiums_coverage.domain.calendar import add_months, month_key, monthly_due_date


def is_billing_day(business_date: date) -> bool:
    """R1.4: the bill is generated on the 1st of each month."""
    return business_date.day == 1


def month_billed_on(business_date: date) -> date:
    """R1.4: the bill generated on `business_date` is for the next month's coverage."""
    return add_months(business_date.replace(day=1), 1)


def bill_terms(business_date: date) -> tuple[str, date]:
    """The coverage month billed on `business_date` and its due date, the 23rd of this month (R1.1)."""
    month = month_billed_on(business_date)
    return month_key(month), monthly_due_date(month)


def is_billable(monthly_premium: Decimal, coverage_start: date, coverage_end: date, month: date) -> bool:
    """D4/R3.2: no bill while the premium is $0; R1.6: none for a month outside the coverage period."""
    return monthly_premium > 0 and coverage_start <= month <= coverage_end


def already_billed(month: date, business_date: date) -> bool:
    """R1.4: the bill for `month` is issued on the 1st of the month before; has that day come?"""
    return business_date >= add_months(month.replace(day=1), -1)
