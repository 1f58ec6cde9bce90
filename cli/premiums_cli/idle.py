"""`premiums wait-idle`: wait until every consumer group has caught up and every outbox is empty."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from premiums_common.lag import LagProbe
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


PENDING_CAP = 100_000
"""Counts stop here: enough to say how busy a service is, and cheap to ask again every quarter second."""
PENDING_SQL = {
    # In key order, so the index scan skips the entries of rows already published (PostgreSQL marks them dead
    # on the first visit); a plain count(*) scanned every dead row of a busy hour on every poll.
    "outbox": "SELECT count(*) FROM (SELECT 1 FROM outbox ORDER BY id LIMIT $1) AS waiting",
    "notifications": """
        SELECT count(*) FROM (
            SELECT 1 FROM notifications WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $1
        ) AS due
    """,
}


@asynccontextmanager
async def _databases() -> AsyncIterator[dict[str, asyncpg.Connection]]:
    """A connection to each service database that has one configured, for as long as the caller polls."""
    connections: dict[str, asyncpg.Connection] = {}
    try:
        for service in SERVICES:
            if url := os.environ.get(f"{service.upper()}_DATABASE_URL"):
                connections[service] = await asyncpg.connect(url)
        yield connections
    finally:
        for con in connections.values():
            await con.close()


async def pending_work(
    connections: dict[str, asyncpg.Connection], cap: int = PENDING_CAP, queries: dict[str, list[str]] | None = None
) -> dict[str, int]:
    """Rows each service still has to publish (outbox) or deliver (notices due now), up to `cap`."""
    queries = queries if queries is not None else await _pending_queries(connections)
    pending: dict[str, int] = {}
    for service, sqls in queries.items():
        pending[service] = sum([int(await connections[service].fetchval(sql, cap)) for sql in sqls])
    return pending


async def _pending_queries(connections: dict[str, asyncpg.Connection]) -> dict[str, list[str]]:
    """The `PENDING_SQL` queries each service's database can answer (asked once per wait, not per poll)."""
    queries: dict[str, list[str]] = {}
    for service, con in connections.items():
        mine = [(table, sql) for table, sql in PENDING_SQL.items() if table in ("outbox", service)]
        queries[service] = [sql for table, sql in mine if await _has(con, table)]
    return queries


async def _has(con: asyncpg.Connection, table: str) -> bool:
    return bool(await con.fetchval("SELECT to_regclass($1) IS NOT NULL", table))


async def backlog() -> Backlog:
    async with _databases() as connections, LagProbe(bootstrap()) as probe:
        return await _backlog(connections, probe)


async def _backlog(
    connections: dict[str, asyncpg.Connection],
    probe: LagProbe,
    cap: int = PENDING_CAP,
    queries: dict[str, list[str]] | None = None,
    *,
    lag_if_pending: bool = True,
) -> Backlog:
    """Pending rows, then consumer lag; without `lag_if_pending`, a service with rows pending is answer enough
    (busy), and the broker is not asked (four lag probes a second cost Kafka 5% of a core)."""
    pending = await pending_work(connections, cap, queries)
    if not lag_if_pending and any(pending.values()):
        return Backlog({}, pending)
    return Backlog(await probe.lag(consumer_groups()), pending)


LONG_WAIT = 10.0
LONG_INTERVAL = 1.0


def _next_poll(interval: float, waited: float, calm: int) -> float:
    """`interval`, but once a wait has been busy for `LONG_WAIT` seconds, `LONG_INTERVAL` until it first looks
    idle (then `interval` again to confirm it). Each poll queries every outbox, inbox and queue: in a
    100,000-member month, polls four times a second cost PostgreSQL about 80 s of CPU (`pg_stat_statements`),
    taken from the system being measured; a long wait loses at most a second to the slower polls."""
    return interval if waited < LONG_WAIT or calm else max(interval, LONG_INTERVAL)


async def wait_idle(timeout: float = 120.0, *, settle: int = 2, interval: float = 0.25, quiet: bool = True) -> Backlog:
    """Idle means: no lag and nothing pending, seen `settle` times in a row (work causes more work)."""
    started = time.monotonic()
    deadline = started + timeout
    calm = 0
    # One connection per database and one set of Kafka clients for the whole wait, not per poll.
    # Quiet, a poll only asks whether anything is pending (LIMIT 1): counting a month's backlog of due notices
    # four times a second took PostgreSQL's CPU from the system being measured.
    cap = 1 if quiet else PENDING_CAP
    async with _databases() as connections, LagProbe(bootstrap()) as probe:
        queries = await _pending_queries(connections)
        while True:
            state = await _backlog(connections, probe, cap, queries, lag_if_pending=not quiet)
            calm = calm + 1 if state.idle else 0
            if calm >= settle:
                return state
            if time.monotonic() > deadline:
                state = await _backlog(connections, probe, PENDING_CAP, queries)
                raise TimeoutError(f"the system did not become idle within {timeout:.0f} s: {state.describe()}")
            if not quiet:
                print(f"waiting: {state.describe()}", file=sys.stderr)
            await asyncio.sleep(_next_poll(interval, time.monotonic() - started, calm))
