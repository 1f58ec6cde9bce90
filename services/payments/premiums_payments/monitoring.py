"""Return rates (R5.12) as Prometheus gauges, read from the payments database when `/metrics` is scraped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
from premiums_common.clock import BusinessClock
from prometheus_client import Gauge

from premiums_payments.domain.returns import RATE_THRESHOLDS, return_rates

RETURN_RATE = Gauge("premiums_payments_return_rate", "ACH return rate over the prior 60 days (R5.12)", ["category"])
RETURN_RATE_THRESHOLD = Gauge("premiums_payments_return_rate_threshold", "Nacha threshold (R5.12)", ["category"])
WINDOW = timedelta(days=60)


def return_rate_gauges(clock: BusinessClock) -> Callable[[asyncpg.Pool], Awaitable[None]]:
    async def scrape(pool: asyncpg.Pool) -> None:
        since = clock.today() - WINDOW
        debits = await pool.fetchval(
            "SELECT count(*) FROM payments WHERE method = 'ach_debit' AND business_date >= $1", since
        )
        codes = [
            r["return_code"]
            for r in await pool.fetch(
                """
                SELECT r.return_code FROM payment_returns r JOIN payments p USING (payment_id)
                WHERE p.business_date >= $1
                """,
                since,
            )
        ]
        for category, rate in return_rates(int(debits), codes).items():
            RETURN_RATE.labels(category).set(rate)
            RETURN_RATE_THRESHOLD.labels(category).set(RATE_THRESHOLDS[category])

    return scrape
