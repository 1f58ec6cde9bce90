"""Small Kafka helpers for the command line: an idempotent producer, reading a topic end to end."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from premiums_common.kafka import make_producer
from premiums_common.outbox import Outgoing


def bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


@asynccontextmanager
async def producer() -> AsyncIterator[AIOKafkaProducer]:
    client = make_producer(bootstrap(), client_id="premiums-cli", linger_ms=0)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def publish(client: AIOKafkaProducer, items: list[Outgoing]) -> None:
    for item in items:
        await client.send_and_wait(
            item.topic,
            value=item.event.model_dump_json().encode(),
            key=item.envelope.subject.encode(),
            headers=item.envelope.to_headers(),
        )


async def partitions_of(topics: list[str]) -> dict[str, set[int]]:
    """Each topic's partitions, from the broker's metadata."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap())
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {d["topic"]: {p["partition"] for p in d["partitions"]} for d in described if d["error_code"] == 0}


async def read_all(topic: str, *, last: int | None = None) -> list[ConsumerRecord]:
    """Every record on `topic` (or only the last `last` per partition), without joining a group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = (await partitions_of([topic])).get(topic, set())
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        records: list[ConsumerRecord] = []
        for tp in tps:
            first = starts[tp] if last is None else max(starts[tp], ends[tp] - last)
            if first >= ends[tp]:
                continue
            consumer.seek(tp, first)
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records.extend(r for r in batch.get(tp, []) if r.offset < ends[tp])
        return records
    finally:
        await consumer.stop()
