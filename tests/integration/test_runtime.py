"""The shared runtime's delivery guarantees (ARCHITECTURE §6) with real Kafka and real PostgreSQL.

Outbox + relay, the relay's advisory-lock leadership, inbox dedupe, redelivery, dead letters, migrations.
Every test runs on its own topics (`it.<uuid>.events` + `.dlq`) and the session's own database.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from premiums_cli.dlq import replay
from premiums_common import inbox, outbox
from premiums_common.consumer import MAX_RECORD_BYTES, EventConsumer, Incoming, Rejected
from premiums_common.database import create_pool, migrate
from premiums_common.outbox import RELAY_LOCK, OutboxRelay, Outgoing, envelope_for
from premiums_contracts import Envelope
from premiums_contracts.events import PaymentCleared

from tests.integration.support import (
    ItTopic,
    TopicOutgoing,
    committed_total,
    fresh_database,
    read_topic,
    reset_group,
    running,
)
from tests.polling import eventually, stays

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SOURCE = "/premiums/it"


# -- helpers -----------------------------------------------------------------------------------------


def cleared(payment_id: str | None = None, enrollment_id: str = "E-1") -> PaymentCleared:
    return PaymentCleared(
        payment_id=payment_id or f"P-{uuid.uuid4().hex[:8]}",
        enrollment_id=enrollment_id,
        amount=Decimal("312.40"),
        cleared_on=date(2026, 1, 15),
    )


def outgoing(event: PaymentCleared, topic: str, *, key: str | None = None) -> TopicOutgoing:
    env = envelope_for(event, source=SOURCE, key=key or event.enrollment_id)
    return TopicOutgoing(event, env, target=topic)


async def publish(
    producer: AIOKafkaProducer,
    topic: str,
    *,
    key: str,
    value: bytes,
    headers: list[tuple[str, bytes]],
    partition: int | None = None,
) -> int:
    """Publish one record; returns its partition."""
    metadata = await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers, partition=partition)
    return int(metadata.partition)


def envelope_of(event: PaymentCleared, key: str) -> Envelope:
    return Envelope(type=PaymentCleared.ce_type(), source="/it/producer", subject=key)


async def outbox_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox"))


async def effects(pool: asyncpg.Pool, consumer: str, payment_id: str | None = None) -> int:
    if payment_id is None:
        return int(await pool.fetchval("SELECT count(*) FROM it_effects WHERE consumer = $1", consumer))
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM it_effects WHERE consumer = $1 AND payment_id = $2", consumer, payment_id
        )
    )


async def record_effect(con: asyncpg.Connection, consumer: str, incoming: Incoming) -> None:
    await con.execute(
        "INSERT INTO it_effects (consumer, ce_id, payment_id) VALUES ($1, $2, $3)",
        consumer,
        incoming.envelope.id,
        incoming.event.payment_id,
    )


async def relay_lock_holder(pool: asyncpg.Pool) -> int | None:
    """The backend pid holding the relay's advisory lock in this database, if any."""
    pid = await pool.fetchval(
        """
        SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """,
        RELAY_LOCK,
    )
    return int(pid) if pid is not None else None


def header(record: Any, name: str) -> str | None:
    values = [v for k, v in record.headers if k == name]
    assert len(values) <= 1, f"header {name} appears {len(values)} times"
    return values[0].decode() if values else None


def consumer_name(what: str) -> str:
    return f"it-{what}-{uuid.uuid4().hex[:8]}"


# -- 1. the outbox -----------------------------------------------------------------------------------


async def test_outbox_publishes_committed_rows_once_in_key_order_and_never_rolled_back_ones(
    empty_outbox: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, topic: ItTopic
) -> None:
    pool = empty_outbox
    rolled_back = [outgoing(cleared(enrollment_id=f"E-RB-{i}"), topic.name) for i in range(3)]
    with pytest.raises(RuntimeError, match="roll back"):
        async with pool.acquire() as con, con.transaction():
            await outbox.add(con, rolled_back)
            assert await con.fetchval("SELECT count(*) FROM outbox") == 3  # visible inside the transaction
            raise RuntimeError("roll back")
    assert await outbox_count(pool) == 0

    # 3 keys x 5 events, interleaved, over two committed transactions; batch_size 4 forces several batches.
    keys = ["E-A", "E-B", "E-C"]
    committed = [outgoing(cleared(enrollment_id=k), topic.name) for _ in range(5) for k in keys]
    async with pool.acquire() as con:
        async with con.transaction():
            await outbox.add(con, committed[:7])
        async with con.transaction():
            await outbox.add(con, committed[7:])
    assert await outbox_count(pool) == len(committed)

    relay = OutboxRelay(database_url, pool, producer, batch_size=4, poll_interval=0.2)
    relay.start()
    try:
        await eventually(lambda: _is_zero(outbox_count(pool)), what="outbox drained")
        records = await read_topic(topic.name, expected=len(committed), settle=1.0)
    finally:
        await relay.stop()

    assert relay.published == len(committed)
    assert await outbox_count(pool) == 0, "published rows are deleted"
    published_ids = [header(r, "ce_id") for r in records]
    assert len(published_ids) == len(committed), "each committed row is published exactly once"
    assert set(published_ids) == {o.envelope.id for o in committed}
    assert not set(published_ids) & {o.envelope.id for o in rolled_back}, "rolled-back rows never published"

    by_id = {o.envelope.id: o for o in committed}
    for record in records:
        item = by_id[header(record, "ce_id")]
        assert record.key == item.envelope.subject.encode()
        assert record.value == item.event.model_dump_json().encode()
        assert list(record.headers) == item.envelope.to_headers(), "CloudEvents headers kept exactly"
        assert PaymentCleared.model_validate_json(record.value) == item.event

    for key in keys:
        mine = [r for r in records if r.key == key.encode()]
        assert len({r.partition for r in mine}) == 1, "one key, one partition"
        in_log_order = [header(r, "ce_id") for r in sorted(mine, key=lambda r: r.offset)]
        assert in_log_order == [o.envelope.id for o in committed if o.envelope.subject == key], "per-key order"


async def test_relay_is_woken_by_notify_without_waiting_for_the_poll(
    empty_outbox: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, topic: ItTopic
) -> None:
    pool = empty_outbox
    relay = OutboxRelay(database_url, pool, producer, poll_interval=30.0)  # polling alone would take 30 s
    relay.start()
    try:
        await eventually(lambda: relay_lock_holder(pool), what="relay leadership (LISTEN registered)")
        await asyncio.sleep(0.3)  # let it settle into its wait for a wake-up
        items = [outgoing(cleared(), topic.name) for _ in range(3)]
        async with pool.acquire() as con, con.transaction():
            await outbox.add(con, items)
        await eventually(lambda: _equals(relay.published, 3), timeout=5, what="NOTIFY wake-up")
    finally:
        await relay.stop()
    records = await read_topic(topic.name, expected=3)
    assert sorted(str(header(r, "ce_id")) for r in records) == sorted(i.envelope.id for i in items)


# -- 2. relay leadership -----------------------------------------------------------------------------


async def test_only_one_relay_publishes_and_the_other_takes_over_when_it_stops(
    empty_outbox: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, topic: ItTopic
) -> None:
    pool = empty_outbox
    leader = OutboxRelay(database_url, pool, producer, poll_interval=0.2)
    follower = OutboxRelay(database_url, pool, producer, poll_interval=0.2)
    leader.start()
    try:
        leader_pid = await eventually(lambda: relay_lock_holder(pool), what="leader holds the lock")
        assert leader_pid is not None
        follower.start()
        await asyncio.sleep(0.5)  # the follower has tried (and failed) to take the lock a few times
        assert await relay_lock_holder(pool) == leader_pid

        first = [outgoing(cleared(enrollment_id=f"E-{i % 3}"), topic.name) for i in range(6)]
        async with pool.acquire() as con, con.transaction():
            await outbox.add(con, first)
        await eventually(lambda: _is_zero(outbox_count(pool)), what="first rows published")
        await asyncio.sleep(0.5)  # several follower poll periods
        assert (leader.published, follower.published) == (6, 0), "only the lock holder publishes"

        await leader.stop()
        follower_pid = await eventually(lambda: _holder_other_than(pool, leader_pid), what="follower takes the lock")
        assert follower_pid != leader_pid

        second = [outgoing(cleared(enrollment_id=f"E-{i % 3}"), topic.name) for i in range(4)]
        async with pool.acquire() as con, con.transaction():
            await outbox.add(con, second)
        await eventually(lambda: _equals(follower.published, 4), what="follower publishes new rows")
        assert leader.published == 6
    finally:
        await leader.stop()
        await follower.stop()

    records = await read_topic(topic.name, expected=10, settle=1.0)
    ids = [header(r, "ce_id") for r in records]
    assert len(ids) == 10 and set(ids) == {o.envelope.id for o in first + second}


async def test_relay_that_lost_its_lock_stops_publishing(
    empty_outbox: asyncpg.Pool, database_url: str, producer: AIOKafkaProducer, topic: ItTopic
) -> None:
    pool = empty_outbox
    relay = OutboxRelay(database_url, pool, producer, poll_interval=0.2)
    other_replica = await asyncpg.connect(database_url)
    relay.start()
    try:
        pid = await eventually(lambda: relay_lock_holder(pool), what="relay holds the lock")
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
        # Another replica now takes the lock, legitimately: it is free.
        await asyncio.wait_for(other_replica.execute("SELECT pg_advisory_lock($1)", RELAY_LOCK), 5)
        async with pool.acquire() as con, con.transaction():
            await outbox.add(con, [outgoing(cleared(), topic.name) for _ in range(3)])
        # The relay is no longer the leader: it must leave the rows to the lock holder.
        await stays(lambda: _equals(relay.published, 0), duration=2.0, what="relay without the lock publishes nothing")
    finally:
        await relay.stop()
        await other_replica.close()
        await pool.execute("DELETE FROM outbox")


# -- 3. inbox + consumer -----------------------------------------------------------------------------


async def test_inbox_claim_rolls_back_with_the_effect(pool: asyncpg.Pool) -> None:
    name = consumer_name("claim")
    ids = [str(uuid.uuid4()) for _ in range(3)]
    with pytest.raises(RuntimeError):
        async with pool.acquire() as con, con.transaction():
            assert await inbox.claim(con, name, ids) == set(ids)
            raise RuntimeError("effect failed")
    async with pool.acquire() as con, con.transaction():
        assert await inbox.claim(con, name, [*ids, ids[0]]) == set(ids), "rolled-back claims are not kept"
    async with pool.acquire() as con, con.transaction():
        assert await inbox.claim(con, name, ids) == set()
        assert await inbox.claim(con, "another-consumer-" + name, ids[:1]) == {ids[0]}, "per consumer"


async def test_same_event_delivered_three_times_has_one_effect_and_one_outgoing(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    name = consumer_name("dedupe")
    out_topic = f"{topic.name}.out"  # never relayed: the outgoing rows are only counted

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> list[Outgoing]:
        await record_effect(con, name, incoming)
        caused = cleared(payment_id=f"{incoming.event.payment_id}-caused")
        env = envelope_for(caused, source=SOURCE, key=incoming.key, cause=incoming.envelope)
        return [TopicOutgoing(caused, env, target=out_topic)]

    event = cleared()
    env = envelope_of(event, event.enrollment_id)
    for _ in range(3):
        await publish(
            producer,
            topic.name,
            key=event.enrollment_id,
            value=event.model_dump_json().encode(),
            headers=env.to_headers(),
        )

    consumer = EventConsumer(name, [topic.name], {PaymentCleared: on_cleared})
    async with running(consumer, pool, producer):
        await eventually(
            lambda: _equals_async(committed_total(admin, name, topic.name), 3),
            what="all three deliveries consumed and committed",
        )
        await stays(lambda: _equals_async(effects(pool, name), 1), duration=0.5, what="one effect")

    assert await effects(pool, name, event.payment_id) == 1
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", name) == 1
    rows = await pool.fetch(
        "SELECT topic, key, headers FROM outbox WHERE headers @> $1::jsonb",
        json.dumps([["causation_id", env.id]]),
    )
    assert len(rows) == 1, "the handler's Outgoing is stored once"
    assert rows[0]["topic"] == out_topic and rows[0]["key"] == event.enrollment_id
    stored = dict(json.loads(rows[0]["headers"]))
    assert stored["correlation_id"] == env.correlation_id and stored["ce_source"] == SOURCE


# -- 4. redelivery -----------------------------------------------------------------------------------


async def test_redelivery_to_a_new_consumer_in_the_same_group_changes_nothing(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    name = consumer_name("redeliver")

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> None:
        await record_effect(con, name, incoming)

    sent = []
    for i in range(6):
        event = cleared(enrollment_id=f"E-{i % 3}")
        env = envelope_of(event, event.enrollment_id)
        sent.append((event, env))
        await publish(
            producer,
            topic.name,
            key=event.enrollment_id,
            value=event.model_dump_json().encode(),
            headers=env.to_headers(),
        )

    async with running(EventConsumer(name, [topic.name], {PaymentCleared: on_cleared}), pool, producer):
        await eventually(lambda: _equals_async(committed_total(admin, name, topic.name), 6), what="first pass")
    assert await effects(pool, name) == 6

    # As if the process had crashed after its database commit but before the offset commit: the group's
    # offsets are rewound; and the producer re-sends the same records too. Nothing is deleted.
    await reset_group(name, topic.name)
    for event, env in sent:
        await publish(
            producer,
            topic.name,
            key=event.enrollment_id,
            value=event.model_dump_json().encode(),
            headers=env.to_headers(),
        )

    async with running(EventConsumer(name, [topic.name], {PaymentCleared: on_cleared}), pool, producer):
        await eventually(
            lambda: _equals_async(committed_total(admin, name, topic.name), 12), what="second pass over 12 records"
        )
        await stays(lambda: _equals_async(effects(pool, name), 6), duration=0.5, what="still six effects")
    for event, _ in sent:
        assert await effects(pool, name, event.payment_id) == 1


async def test_infrastructure_error_commits_nothing_and_the_record_is_processed_once_when_fixed(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    name = consumer_name("infra")
    broken = True
    calls = 0

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> None:
        nonlocal calls
        calls += 1
        await record_effect(con, name, incoming)  # rolled back with the transaction while broken
        if broken:
            raise OSError("database unreachable")

    event = cleared()
    env = envelope_of(event, event.enrollment_id)
    await publish(
        producer, topic.name, key=event.enrollment_id, value=event.model_dump_json().encode(), headers=env.to_headers()
    )

    async with running(EventConsumer(name, [topic.name], {PaymentCleared: on_cleared}), pool, producer):
        # Each failed pass pauses 2 s (consumer.process) before the batch is nacked and re-delivered.
        await eventually(lambda: _true(calls >= 2), timeout=12, what="the batch is re-delivered")
        assert await committed_total(admin, name, topic.name) == 0, "no offset commit before the DB commit"
        assert await effects(pool, name) == 0
        assert await pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", name) == 0
        dlq = await read_topic(topic.dlq, expected=1, timeout=0.3, settle=0)
        assert dlq == [], "infrastructure failures are never dead-lettered"

        broken = False
        await eventually(
            lambda: _equals_async(committed_total(admin, name, topic.name), 1), timeout=12, what="committed once fixed"
        )
        await stays(lambda: _equals_async(effects(pool, name), 1), duration=0.5, what="exactly one effect")


# -- 5. poison and dead letters ----------------------------------------------------------------------


async def test_poison_records_go_to_the_dlq_with_a_plain_reason_and_later_records_are_processed(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    name = consumer_name("poison")
    key = "E-POISON"

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> None:
        await record_effect(con, name, incoming)

    good = cleared(enrollment_id=key)
    good_body = good.model_dump_json().encode()

    def headers(ce_type: str = PaymentCleared.ce_type()) -> list[tuple[str, bytes]]:
        hdrs: list[tuple[str, bytes]] = Envelope(type=ce_type, source="/it/producer", subject=key).to_headers()
        return hdrs

    poison: list[tuple[str, bytes, list[tuple[str, bytes]], str]] = [
        ("invalid json", b"{not json", headers(), f"body does not match {PaymentCleared.ce_type()}: "),
        (
            "invalid body",
            json.dumps({"payment_id": "P-X", "amount": "abc"}).encode(),
            headers(),
            f"body does not match {PaymentCleared.ce_type()}: ",
        ),
        ("unknown type", good_body, headers("payments.NoSuchEvent.v1"), "unknown ce_type 'payments.NoSuchEvent.v1'"),
        ("missing ce_id", good_body, [h for h in headers() if h[0] != "ce_id"], "missing CloudEvents header(s): ce_id"),
        ("oversized", b" " * (MAX_RECORD_BYTES + 1) + good_body, headers(), "a body of "),
        ("no body", b"", headers(), "the record has no body"),
    ]
    partitions = {await publish(producer, topic.name, key=key, value=v, headers=h) for _, v, h, _ in poison}
    # A record of another key on the same partition: the consumer keeps going past the poison.
    other = cleared(enrollment_id="E-OTHER")
    await publish(
        producer,
        topic.name,
        key="E-OTHER",
        value=other.model_dump_json().encode(),
        headers=envelope_of(other, "E-OTHER").to_headers(),
        partition=partitions.pop(),
    )

    async with running(EventConsumer(name, [topic.name], {PaymentCleared: on_cleared}), pool, producer):
        await eventually(
            lambda: _equals_async(committed_total(admin, name, topic.name), 7), what="all seven records consumed"
        )
        await eventually(lambda: _equals_async(effects(pool, name, other.payment_id), 1), what="valid record")

    source = sorted(await read_topic(topic.name, expected=7, settle=0), key=lambda r: r.offset)
    assert len({r.partition for r in source}) == 1, "one key, one partition"
    dlq = sorted(await read_topic(topic.dlq, expected=6), key=lambda r: int(header(r, "dlq_source_offset") or -1))
    assert len(dlq) == 6, [header(r, "dlq_reason") for r in dlq]
    assert await effects(pool, name) == 1

    for (label, value, _, reason_start), original, dead in zip(poison, source[:6], dlq, strict=True):
        reason = header(dead, "dlq_reason")
        assert reason is not None and reason.startswith(reason_start), (label, reason)
        assert "\n" not in reason and "Traceback" not in reason, (label, reason)
        assert header(dead, "dlq_exception") is None, label
        assert header(dead, "dlq_consumer") == name
        assert header(dead, "dlq_source_topic") == topic.name
        assert header(dead, "dlq_source_partition") == str(original.partition)
        assert header(dead, "dlq_source_offset") == str(original.offset)
        assert dead.value == value and dead.key == key.encode(), label
        assert dead.partition == original.partition, "the DLQ twin keeps the key's partition"
    assert "Invalid JSON" in str(header(dlq[0], "dlq_reason"))
    invalid_body_reason = str(header(dlq[1], "dlq_reason"))
    assert "enrollment_id" in invalid_body_reason and "amount" in invalid_body_reason


async def test_rejected_goes_to_the_dlq_at_once_and_other_errors_after_the_retries(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    name = consumer_name("failing")
    key = "E-FAIL"
    calls: Counter[str] = Counter()
    retries = 3

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> None:
        payment_id = incoming.event.payment_id
        calls[payment_id] += 1
        await record_effect(con, name, incoming)
        if payment_id == "P-REJ":
            raise Rejected("unknown enrollment")
        if payment_id == "P-BOOM":
            raise ValueError("boom")

    for payment_id in ("P-REJ", "P-BOOM", "P-OK"):
        own_key = f"{key}-{payment_id}"  # one key each: a dead-lettered key holds back its later records
        event = cleared(payment_id=payment_id, enrollment_id=own_key)
        await publish(
            producer,
            topic.name,
            key=own_key,
            value=event.model_dump_json().encode(),
            headers=envelope_of(event, own_key).to_headers(),
        )

    consumer = EventConsumer(name, [topic.name], {PaymentCleared: on_cleared}, retries=retries, backoff=0.05)
    async with running(consumer, pool, producer):
        await eventually(lambda: _equals_async(committed_total(admin, name, topic.name), 3), what="consumed")
        await eventually(lambda: _equals_async(effects(pool, name, "P-OK"), 1), what="the valid record")

    dlq = await read_topic(topic.dlq, expected=2)
    by_payment = {json.loads(r.value)["payment_id"]: r for r in dlq}
    assert sorted(by_payment) == ["P-BOOM", "P-REJ"] and len(dlq) == 2

    rejected = by_payment["P-REJ"]
    assert header(rejected, "dlq_reason") == "unknown enrollment"
    # At most one attempt inside the whole batch plus one on its own: never retried with backoff.
    assert calls["P-REJ"] <= 2, calls

    failed = by_payment["P-BOOM"]
    assert header(failed, "dlq_reason") == f"failed {retries} times: ValueError('boom')"
    assert header(failed, "dlq_exception") == "ValueError: boom"
    assert calls["P-BOOM"] in (retries, retries + 1), calls  # the retries (+ the batch attempt, if reached)

    assert await effects(pool, name, "P-REJ") == 0 and await effects(pool, name, "P-BOOM") == 0
    assert await effects(pool, name) == 1


async def test_later_records_of_a_dead_lettered_key_wait_for_it_and_replay_brings_them_back_in_order(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    """ARCHITECTURE §6: later records of the same key are not processed ahead of a dead-lettered one."""
    name = consumer_name("held")
    key = "E-HELD"
    broken = True

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> None:
        if broken and incoming.event.payment_id == "P-1":
            raise Rejected("unknown enrollment E-HELD")
        await record_effect(con, name, incoming)

    partition = -1
    for payment_id in ("P-1", "P-2", "P-3"):
        event = cleared(payment_id=payment_id, enrollment_id=key)
        partition = await publish(
            producer,
            topic.name,
            key=key,
            value=event.model_dump_json().encode(),
            headers=envelope_of(event, key).to_headers(),
        )
    other = cleared(payment_id="P-X", enrollment_id="E-FREE")
    await publish(
        producer,
        topic.name,
        key="E-FREE",
        value=other.model_dump_json().encode(),
        headers=envelope_of(other, "E-FREE").to_headers(),
        partition=partition,
    )

    consumer = EventConsumer(name, [topic.name], {PaymentCleared: on_cleared}, retries=2, backoff=0.01)
    async with running(consumer, pool, producer):
        await eventually(lambda: _equals_async(committed_total(admin, name, topic.name), 4), what="consumed")
        await eventually(lambda: _equals_async(effects(pool, name, "P-X"), 1), what="the other key goes on")
        dlq = sorted(await read_topic(topic.dlq, expected=3), key=lambda r: r.offset)
        assert [json.loads(r.value)["payment_id"] for r in dlq] == ["P-1", "P-2", "P-3"]
        assert header(dlq[0], "dlq_reason") == "unknown enrollment E-HELD"
        assert all(str(header(r, "dlq_reason")).startswith("held:") for r in dlq[1:])
        assert await effects(pool, name) == 1
        held = await pool.fetchval("SELECT held FROM parked_keys WHERE consumer = $1 AND key = $2", name, key)
        assert held == 3

        broken = False  # the cause is repaired; the operator replays the key
        assert await replay(dlq) == 3
        await eventually(lambda: _equals_async(effects(pool, name), 4), what="the held records came back")
    rows = await pool.fetch("SELECT payment_id FROM it_effects WHERE consumer = $1 ORDER BY at", name)
    assert [r["payment_id"] for r in rows if r["payment_id"] != "P-X"] == ["P-1", "P-2", "P-3"], "in order"
    assert await pool.fetchval("SELECT count(*) FROM parked_keys WHERE consumer = $1", name) == 0


# -- 6. migrations -----------------------------------------------------------------------------------


async def test_migrations_apply_once_even_when_replicas_start_together(pool: asyncpg.Pool) -> None:
    assert await migrate(pool, "premiums_common") == [], "the session database is already migrated"

    async with fresh_database("it_mig") as url:
        pools = [await create_pool(url, min_size=1, max_size=2) for _ in range(3)]
        try:
            results = await asyncio.gather(*(migrate(p, "premiums_common") for p in pools))
            shipped = sorted(
                f"premiums_common:{f.name}"
                for f in resources.files("premiums_common").joinpath("migrations").iterdir()
                if f.name.endswith(".sql")
            )
            assert sorted(results, key=len) == [[], [], shipped]
            assert await migrate(pools[0], "premiums_common") == []
            names = [r["name"] for r in await pools[0].fetch("SELECT name FROM schema_migrations")]
            assert names == shipped
            tables = {
                r["tablename"]
                for r in await pools[0].fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
            assert {"outbox", "inbox", "business_clock", "daily_runs", "schema_migrations"} <= tables
        finally:
            for p in pools:
                await p.close()


# -- small async predicates for `eventually` / `stays` -----------------------------------------------


async def _is_zero(value: Any) -> bool:
    return bool((await value) == 0)


async def _equals(value: Any, expected: Any) -> bool:
    return bool(value == expected)


async def _equals_async(value: Any, expected: Any) -> bool:
    return bool((await value) == expected)


async def _true(value: bool) -> bool:
    return bool(value)


async def _holder_other_than(pool: asyncpg.Pool, pid: int) -> int | None:
    holder = await relay_lock_holder(pool)
    return holder if holder not in (None, pid) else None


async def test_a_blocking_stream_waits_for_a_fix_instead_of_dead_lettering(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    """The business clock: a failing day is never skipped; once fixed, it and the days after it run in order."""
    name = consumer_name("blocking")
    broken = True

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> None:
        if broken and incoming.event.payment_id == "D-1":
            raise RuntimeError("a bug in today's job")
        await record_effect(con, name, incoming)

    partition = -1
    for payment_id in ("D-1", "D-2"):
        event = cleared(payment_id=payment_id, enrollment_id="clock")
        partition = await publish(
            producer,
            topic.name,
            key="clock",
            value=event.model_dump_json().encode(),
            headers=envelope_of(event, "clock").to_headers(),
            partition=partition if partition >= 0 else None,
        )
    consumer = EventConsumer(
        name, [topic.name], {PaymentCleared: on_cleared}, retries=2, backoff=0.01, block_on_failure=True
    )
    async with running(consumer, pool, producer):
        await stays(lambda: _equals(0, 0), duration=1.5, what="time passes while the day fails")
        assert await effects(pool, name) == 0, "nothing ran ahead of the failing day"
        assert await committed_total(admin, name, topic.name) == 0
        broken = False
        await eventually(lambda: _equals_async(effects(pool, name), 2), timeout=20, what="both days ran")
    rows = await pool.fetch("SELECT payment_id FROM it_effects WHERE consumer = $1 ORDER BY at", name)
    assert [r["payment_id"] for r in rows] == ["D-1", "D-2"]
    assert await read_topic(topic.dlq, expected=0, settle=0.5) == []


async def test_an_event_type_from_a_newer_producer_is_recorded_but_does_not_hold_its_key(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, admin: AIOKafkaAdminClient, topic: ItTopic
) -> None:
    """Contracts grow by adding types: an older consumer dead-letters the unknown one and keeps going."""
    name = consumer_name("newer")
    key = "E-NEWER"

    async def on_cleared(con: asyncpg.Connection, incoming: Incoming) -> None:
        await record_effect(con, name, incoming)

    later = cleared(payment_id="P-AFTER", enrollment_id=key)
    body = later.model_dump_json().encode()
    newer = Envelope(type="payments.SomethingNew.v1", source="/it/producer", subject=key).to_headers()
    await publish(producer, topic.name, key=key, value=body, headers=newer)
    await publish(producer, topic.name, key=key, value=body, headers=envelope_of(later, key).to_headers())
    async with running(EventConsumer(name, [topic.name], {PaymentCleared: on_cleared}), pool, producer):
        await eventually(lambda: _equals_async(effects(pool, name, "P-AFTER"), 1), what="the later record")
    dlq = await read_topic(topic.dlq, expected=1)
    assert [header(r, "dlq_reason") for r in dlq] == ["unknown ce_type 'payments.SomethingNew.v1'"]
    assert await pool.fetchval("SELECT count(*) FROM parked_keys WHERE consumer = $1", name) == 0
