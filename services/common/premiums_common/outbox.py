"""The transactional outbox (ARCHITECTURE §6): an event is a row written in the transaction of its cause.

`OutboxRelay` publishes the rows in id order with the idempotent producer and deletes them once the
broker has acknowledged them. One relay per service holds a PostgreSQL advisory lock, so with N replicas
exactly one publishes at a time and per-key order is kept; the others wait to take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import asyncpg
from aiokafka import AIOKafkaProducer
from premiums_contracts import Envelope, Event

from premiums_common.tracing import current_traceparent

log = logging.getLogger(__name__)

CHANNEL = "outbox"
RELAY_LOCK = 7_700_002


class LeadershipLost(RuntimeError):
    """This relay no longer holds the advisory lock that makes it the only publisher."""


@dataclass(frozen=True)
class Outgoing:
    event: Event
    envelope: Envelope

    @property
    def topic(self) -> str:
        return self.event.topic


def envelope_for(event: Event, *, source: str, key: str, cause: Envelope | None = None) -> Envelope:
    """The envelope of a new event: same flow as its cause, and the current span as its trace parent."""
    if cause is None:
        envelope = Envelope(type=event.ce_type(), source=source, subject=key)
    else:
        envelope = cause.caused(type=event.ce_type(), source=source, subject=key)
    traceparent = current_traceparent()
    return replace(envelope, traceparent=traceparent) if traceparent else envelope


def resumed(
    event: Event,
    *,
    source: str,
    key: str,
    correlation_id: str | None,
    traceparent: str | None = None,
    causation_id: str | None = None,
) -> Outgoing:
    """An event later in a flow whose context was stored (a clearing, a return, a delivered notice), not
    received just now: it keeps the flow's correlation id and trace."""
    envelope = Envelope(
        type=event.ce_type(),
        source=source,
        subject=key,
        correlation_id=correlation_id,
        causation_id=causation_id,
        traceparent=traceparent,
    )
    return Outgoing(event, envelope)


async def add(con: asyncpg.Connection, items: Sequence[Outgoing]) -> None:
    """Store events in the caller's transaction; they are published only if it commits.

    One round trip: the rows go in as arrays, in order (the relay publishes in id order, so per-key order
    holds), and the relay is woken by `pg_notify` in the same statement (delivered at commit, like NOTIFY).
    """
    if not items:
        return
    await con.execute(
        """
        WITH added AS (
            INSERT INTO outbox (topic, key, ce_id, headers, payload)
            SELECT topic, key, ce_id, headers::jsonb, payload
            FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::bytea[])
                 WITH ORDINALITY AS item (topic, key, ce_id, headers, payload, n)
            ORDER BY n
            RETURNING 1
        )
        SELECT pg_notify($6, '')
        """,
        [item.topic for item in items],
        [item.envelope.subject for item in items],
        [item.envelope.id for item in items],
        [json.dumps([[k, v.decode()] for k, v in item.envelope.to_headers()]) for item in items],
        [item.event.model_dump_json().encode() for item in items],
        CHANNEL,
    )


async def backlog(pool: asyncpg.Pool) -> tuple[int, float]:
    """How many rows wait to be published, and the age in seconds of the oldest."""
    row = await pool.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age FROM outbox"
    )
    assert row is not None
    return int(row["n"]), float(row["age"])


class OutboxRelay:
    def __init__(
        self,
        database_url: str,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
    ) -> None:
        self._database_url = database_url
        self._pool = pool
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; restarting in 1 s")
                await asyncio.sleep(1.0)

    async def _lead(self) -> None:
        # A dedicated connection: LISTEN and the session advisory lock must not go back to the pool.
        listener = await asyncpg.connect(self._database_url)
        try:
            await listener.add_listener(CHANNEL, lambda *_: self._wake.set())
            while not await listener.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):  # noqa: ASYNC110
                await asyncio.sleep(self._poll_interval)
            log.info("outbox relay is the publisher for this service")
            while True:
                self._wake.clear()
                if not await self._still_leader(listener):
                    raise LeadershipLost("the outbox relay lost its advisory lock; re-acquiring")
                sent = await self.publish_batch()
                if sent < self._batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        finally:
            await listener.close()

    @staticmethod
    async def _still_leader(listener: asyncpg.Connection) -> bool:
        # Checked before every batch: if the lock session died (terminated backend, restart, network cut)
        # another replica may lead now, and this one must stop publishing. A lost lock between this check
        # and the publish can still double-publish one batch; consumers' inboxes absorb that.
        held = await listener.fetchval(
            """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                           AND pid = pg_backend_pid() AND classid = 0 AND objid = $1)
            """,
            RELAY_LOCK,
            timeout=5,
        )
        return bool(held)

    async def publish_batch(self) -> int:
        rows = await self._pool.fetch(
            "SELECT id, topic, key, headers, payload FROM outbox ORDER BY id LIMIT $1", self._batch_size
        )
        if not rows:
            return 0
        futures = [
            await self._producer.send(
                row["topic"],
                value=row["payload"],
                key=row["key"].encode(),
                headers=[(k, v.encode()) for k, v in json.loads(row["headers"])],
            )
            for row in rows
        ]
        await asyncio.gather(*futures)
        await self._pool.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        self.published += len(rows)
        return len(rows)
