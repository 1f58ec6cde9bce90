"""Idempotency keys (ARCHITECTURE §3): kept 120 days, a billing cycle plus the 60-day return window."""

from __future__ import annotations

from datetime import date, timedelta

RETENTION_DAYS = 120


def purge_before(business_date: date) -> date:
    """Keys recorded before this date may be forgotten."""
    return business_date - timedelta(days=RETENTION_DAYS)
