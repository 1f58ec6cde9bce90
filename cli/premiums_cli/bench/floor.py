"""The floor: the pipeline's reads and writes with raw aiokafka and asyncpg and no framework.

Consume a batch, claim its ids in an inbox table and write the results in one transaction, produce the
results, commit the offsets: what one service hop must do at least. The system's throughput is reported as a
ratio of this floor.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from premiums_cli.bench.measure import progress
from premiums_cli.kafka_io import bootstrap


async def _leaders_elected(admin: AIOKafkaAdminClient, topics: list[str], timeout: float = 30.0) -> None:
    """New topics answer "not leader" until every partition has one; producing before that only retries."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = await admin.describe_topics(topics)
        if all(d["error_code"] == 0 and all(p["leader"] >= 0 for p in d["partitions"]) for d in described):
            return
        await asyncio.sleep(0.2)


async def floor(count: int) -> dict[str, Any]:
    source, target = f"bench.floor.{uuid.uuid4().hex[:8]}", f"bench.floor.out.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap())
    await admin.start()
    await admin.create_topics([NewTopic(source, 12, 1), NewTopic(target, 12, 1)])
    out = AIOKafkaProducer(bootstrap_servers=bootstrap(), enable_idempotence=True, linger_ms=5)
    await out.start()
    await _leaders_elected(admin, [source, target])
    body = b'{"payment_id":"p","enrollment_id":"e","amount":"200.00","cleared_on":"2027-01-04"}'
    await asyncio.gather(*[await out.send(source, body, key=str(i).encode()) for i in range(count)])
    con = await asyncpg.connect(os.environ["COVERAGE_DATABASE_URL"])
    await con.execute("CREATE TEMP TABLE floor_inbox (id text PRIMARY KEY)")
    await con.execute("CREATE TEMP TABLE floor_ledger (id text PRIMARY KEY, amount numeric)")
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap(),
        group_id=f"floor-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    done = 0
    started = time.perf_counter()
    try:
        while done < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            ids = [f"{r.partition}:{r.offset}" for r in records]
            async with con.transaction():
                await con.execute("INSERT INTO floor_inbox SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ids)
                await con.execute(
                    "INSERT INTO floor_ledger SELECT unnest($1::text[]), 200.00 ON CONFLICT DO NOTHING", ids
                )
            await asyncio.gather(*[await out.send(target, r.value, key=r.key) for r in records])
            await consumer.commit()
            done += len(records)
            progress("floor (raw aiokafka + asyncpg)", done, count)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
        await out.stop()
        await con.close()
        await admin.delete_topics([source, target])
        await admin.close()
    return {"floor_payments_per_s": round(count / elapsed, 1)}
