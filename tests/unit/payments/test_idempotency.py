"""Idempotency keys live 120 days: a billing cycle plus the 60-day return window (ARCHITECTURE §3)."""

from __future__ import annotations

from datetime import date

from premiums_payments.domain.idempotency import RETENTION_DAYS, purge_before


def test_keys_older_than_120_days_are_purged() -> None:
    assert RETENTION_DAYS == 120
    assert purge_before(date(2027, 5, 1)) == date(2027, 1, 1)
