"""Fixtures for the runtime integration tests: real Kafka and PostgreSQL, isolated from the project's data.

- one fresh database per test session (`it_<uuid>`), migrated with `premiums_common`, dropped at the end;
- fresh topics per test (`it.<uuid>.events` and its `.dlq` twin, 3 partitions), deleted afterwards.
The infrastructure itself comes from the lead's `infrastructure` fixture (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from premiums_common.database import create_pool, migrate
from premiums_common.kafka import make_producer

from tests.integration.support import PARTITIONS, ItTopic, bootstrap_servers, fresh_database
from tests.polling import eventually


@pytest.fixture(scope="session")
async def database_url(infrastructure: None) -> AsyncIterator[str]:
    async with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=2, max_size=20)
    await migrate(pool, "premiums_common")
    await pool.execute(
        """
        CREATE TABLE it_effects (
            consumer   text NOT NULL,
            ce_id      text NOT NULL,
            payment_id text NOT NULL,
            at         timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def empty_outbox(pool: asyncpg.Pool) -> asyncpg.Pool:
    """The session database with no outbox rows left over by an earlier test."""
    await pool.execute("DELETE FROM outbox")
    return pool


@pytest.fixture(scope="session")
async def producer(infrastructure: None) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(bootstrap_servers(), client_id="it-runtime")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
async def admin(infrastructure: None) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers(), client_id="it-runtime-admin")
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def topic(admin: AIOKafkaAdminClient) -> AsyncIterator[ItTopic]:
    """`it.<uuid>.events` and `it.<uuid>.events.dlq`, 3 partitions each, for this test only."""
    t = ItTopic(f"it.{uuid.uuid4().hex[:12]}.events")
    names = [t.name, t.dlq]
    await admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])

    async def ready() -> bool:
        described = {d["topic"]: d for d in await admin.describe_topics(names)}
        return all(
            n in described and described[n]["error_code"] == 0 and len(described[n]["partitions"]) == PARTITIONS
            for n in names
        )

    await eventually(ready, timeout=15, interval=0.1, what=f"topics {names}")
    try:
        yield t
    finally:
        with contextlib.suppress(Exception):  # best-effort cleanup; the names are unique anyway
            await admin.delete_topics(names)
