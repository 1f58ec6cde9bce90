"""Helpers for the runtime integration tests: polling, fresh databases, reading topics, running consumers.

Nothing here publishes to the project's real topics.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from premiums_common.consumer import EventConsumer
from premiums_common.database import create_pool, migrate
from premiums_common.kafka import make_broker
from premiums_common.outbox import Outgoing

PARTITIONS = 3

T = TypeVar("T")


def bootstrap_servers() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def admin_database_url() -> str:
    """The `postgres` maintenance database of the server the services use."""
    if url := os.environ.get("IT_ADMIN_DATABASE_URL"):
        return url
    service_url = os.environ.get("PAYMENTS_DATABASE_URL", "postgresql://premiums@127.0.0.1:55432/payments")
    return database_url_for(service_url, "postgres")


def database_url_for(url: str, database: str) -> str:
    base, _, _ = url.partition("?")[0].rpartition("/")
    return f"{base}/{database}"


# -- PostgreSQL --------------------------------------------------------------------------------------


@asynccontextmanager
async def fresh_database(prefix: str = "it") -> AsyncIterator[str]:
    """A brand-new, empty database; dropped (connections forced out) on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_url = admin_database_url()
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield database_url_for(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def service_database(package: str, *, max_size: int = 10) -> AsyncIterator[asyncpg.Pool]:
    """A fresh database migrated as `package` migrates its own at start-up, and a pool on it."""
    async with fresh_database(f"it_{package.removeprefix('premiums_')}") as url:
        pool = await create_pool(url, min_size=1, max_size=max_size)
        await migrate(pool, "premiums_common", package)
        try:
            yield pool
        finally:
            await pool.close()


async def collected(batches: AsyncIterator[list[T]]) -> list[T]:
    """Every item a paged daily job yields (the runtime puts each batch in the outbox as it comes)."""
    return [item async for batch in batches for item in batch]


# -- Kafka -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItTopic:
    name: str

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


async def read_topic(topic: str, *, expected: int, timeout: float = 10.0, settle: float = 0.5) -> list[Any]:
    """Every record of `topic` from the beginning: wait for `expected`, then `settle` s more for extras."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers(), enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            for recs in batch.values():
                records.extend(recs)
            now = time.monotonic()
            if len(records) >= expected and settle_until is None:
                settle_until = now + settle
            if (settle_until is not None and now >= settle_until) or now > deadline:
                break
    finally:
        await consumer.stop()
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def committed_total(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    """The sum over the partitions of `topic` of the group's committed offsets (0 if nothing committed)."""
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def reset_group(group: str, topic: str) -> None:
    """Rewind an idle group's committed offsets to 0: what a crash before the offset commit leaves behind."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.commit({tp: 0 for tp in partitions})
    finally:
        await consumer.stop()


@asynccontextmanager
async def running(
    consumer: EventConsumer, pool: asyncpg.Pool, producer: AIOKafkaProducer, *, source: str = "/premiums/it"
) -> AsyncIterator[None]:
    """An `EventConsumer` on its own FastStream broker, wired as `Service` wires it; stopped on exit."""
    broker = make_broker(bootstrap_servers(), client_id=f"it-{consumer.name}")
    consumer.bind(pool, producer, source)
    consumer.subscribe(broker)
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()


@dataclass(frozen=True)
class TopicOutgoing(Outgoing):
    """An `Outgoing` aimed at a test topic instead of its event's real contract topic."""

    target: str = ""

    @property
    def topic(self) -> str:
        return self.target
