"""`premiums wait-idle`: wait until every consumer group has caught up and every outbox is empty."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from dataclasses import dataclass

import asyncpg
from premiums_common.lag import consumer_lag as lag_of
from premiums_contracts.topics import CLOCK_EVENTS

from premiums_cli.kafka_io import bootstrap

SERVICES = ("payments", "coverage", "autopay", "notifications")


def consumer_groups() -> dict[str, list[str]]:
    """Each service's consumer groups and their topics, read from the services' own definitions."""
    groups: dict[str, list[str]] = {}
    for service in SERVICES:
        app = importlib.import_module(f"premiums_{service}.app")
        groups[service] = list(app.CONSUMED_TOPICS)
        groups[f"{service}.clock"] = [CLOCK_EVENTS.name]
    return groups


@dataclass(frozen=True)
class Backlog:
    lag: dict[str, int]
    outbox: dict[str, int]

    @property
    def idle(self) -> bool:
        return not any(self.lag.values()) and not any(self.outbox.values())

    def describe(self) -> str:
        busy = [f"{g} lag {n}" for g, n in self.lag.items() if n] + [
            f"{s} outbox {n}" for s, n in self.outbox.items() if n
        ]
        return ", ".join(busy) or "idle"


async def consumer_lag(groups: dict[str, list[str]]) -> dict[str, int]:
    return await lag_of(bootstrap(), groups)


async def pending_work() -> dict[str, int]:
    """Rows each service still has to publish (outbox) or deliver (notices due now)."""
    pending: dict[str, int] = {}
    for service in SERVICES:
        url = os.environ.get(f"{service.upper()}_DATABASE_URL")
        if not url:
            continue
        con = await asyncpg.connect(url)
        try:
            count = await con.fetchval("SELECT count(*) FROM outbox") if await _has(con, "outbox") else 0
            if service == "notifications" and await _has(con, "notifications"):
                count += await con.fetchval(
                    "SELECT count(*) FROM notifications WHERE status = 'pending' AND next_attempt_at <= now()"
                )
            pending[service] = int(count)
        finally:
            await con.close()
    return pending


async def _has(con: asyncpg.Connection, table: str) -> bool:
    return bool(await con.fetchval("SELECT to_regclass($1) IS NOT NULL", table))


async def backlog() -> Backlog:
    return Backlog(await consumer_lag(consumer_groups()), await pending_work())


async def wait_idle(timeout: float = 120.0, *, settle: int = 2, interval: float = 0.25, quiet: bool = True) -> Backlog:
    """Idle means: no lag and nothing pending, seen `settle` times in a row (work causes more work)."""
    deadline = time.monotonic() + timeout
    calm = 0
    while True:
        state = await backlog()
        calm = calm + 1 if state.idle else 0
        if calm >= settle:
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"the system did not become idle within {timeout:.0f} s: {state.describe()}")
        if not quiet:
            print(f"waiting: {state.describe()}", file=sys.stderr)
        await asyncio.sleep(interval)
