"""The business clock (ARCHITECTURE §4): business dates in America/New_York.

`wall`: the business date is today in New York. `simulated`: it is the last date published on
`clock.events`, which the service stores in its own database so a restart resumes at the same date.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time

import asyncpg

from premiums_common.timezone import NEW_YORK


class BusinessClock:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._simulated: date | None = None

    async def load(self, pool: asyncpg.Pool) -> None:
        self._simulated = await pool.fetchval("SELECT business_date FROM business_clock")

    def observe(self, business_date: date) -> None:
        self._simulated = business_date

    async def follow(self, pool: asyncpg.Pool, interval: float = 0.5) -> None:
        """Keep up with the date another replica recorded (forward only): Kafka gives the clock topic's one
        partition to one process of the group, and every replica's HTTP requests and handlers need today."""
        while True:
            stored = await pool.fetchval("SELECT business_date FROM business_clock")
            if stored is not None and (self._simulated is None or stored > self._simulated):
                self._simulated = stored
            await asyncio.sleep(interval)

    def today(self) -> date:
        if self.mode == "simulated" and self._simulated is not None:
            return self._simulated
        return datetime.now(NEW_YORK).date()

    def now(self) -> datetime:
        """The business moment: the business date at the current New York time of day."""
        wall = datetime.now(NEW_YORK)
        if self.mode == "simulated" and self._simulated is not None:
            return datetime.combine(self._simulated, wall.time(), tzinfo=NEW_YORK)
        return wall

    @staticmethod
    def end_of_day(day: date) -> datetime:
        return datetime.combine(day, time(23, 59, 59), tzinfo=NEW_YORK)


async def record_business_date(con: asyncpg.Connection, business_date: date) -> None:
    await con.execute(
        """
        INSERT INTO business_clock (singleton, business_date) VALUES (true, $1)
        ON CONFLICT (singleton) DO UPDATE SET business_date = EXCLUDED.business_date, updated_at = now()
        """,
        business_date,
    )


async def claim_daily_run(con: asyncpg.Connection, job: str, business_date: date) -> bool:
    """True the first time `job` runs for `business_date` (work is idempotent per job and day)."""
    inserted = await con.fetchval(
        "INSERT INTO daily_runs (job, business_date) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        job,
        business_date,
    )
    return bool(inserted)
