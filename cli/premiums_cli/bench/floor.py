"""The floor: the pipeline's reads and writes with raw aiokafka and asyncpg and no framework.

The system's steady figure is a payment going clearing → coverage → notice queued: three hops, each in its
own database, each claiming the event in an inbox, reading and writing its rows and an outbox in one
transaction, producing what it caused and committing its offsets. The floor does those same reads and
writes, hop for hop, in batches of up to 500, with nothing else: no CloudEvents envelope, no validation, no
tracing or logging, no retries, one process. The system's throughput is reported as a ratio of it.

In the system's measured window (first clearing → last notice queued) more runs than those three hops, and
the floor does it too (`three_hops(deliver=True)`, the `floor_payments_per_s` of the report):
- autopay consumes every `CoverageActivated` (inbox, the mandate's coverage status, commit);
- the consumer groups that do not act on an event still read it and commit its offset (payments reads
  coverage's events, autopay and notifications read the payments' events);
- the notifications sender delivers the welcome notices as they are queued: claims a batch of due notices,
  sends them to the SMTP server (pipelined, `BDAT LAST`, over several connections, as the email channel
  does), marks them sent with an outbox row each and publishes `NotificationSent`.
The figure is measured to the last notice queued, as the system's is. `floor_three_hops_per_s` keeps the
three hops alone (the floor of the seventh and eighth sessions), and `floor_one_hop_per_s` the narrower floor
of the rounds before (one hop: consume, inbox and a ledger row, produce, commit).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import date
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from premiums_cli.bench.measure import PHASE_CPU, progress
from premiums_cli.kafka_io import bootstrap
from premiums_cli.stack.environment import smtp_address

BATCH = 500
PARTITIONS = 12
CLEARED_ON = date(2027, 1, 4)

# Each hop's tables, in its own service's database (real tables, so their writes cost WAL like the system's).
TABLES = {
    "PAYMENTS": """
        CREATE TABLE floor_payments (payment_id text PRIMARY KEY, enrollment_id text NOT NULL,
            amount numeric(12, 2) NOT NULL, status text NOT NULL, cleared_on date);
        CREATE TABLE floor_outbox (id bigserial PRIMARY KEY, key text NOT NULL, body text NOT NULL);
    """,
    "COVERAGE": """
        CREATE TABLE floor_inbox (event_id text PRIMARY KEY);
        CREATE TABLE floor_enrollments (enrollment_id text PRIMARY KEY, member_id text NOT NULL,
            status text NOT NULL, paid_through date, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE floor_received (payment_id text PRIMARY KEY, enrollment_id text NOT NULL,
            amount numeric(12, 2) NOT NULL, status text NOT NULL, cleared_on date);
        CREATE TABLE floor_outbox (id bigserial PRIMARY KEY, key text NOT NULL, body text NOT NULL);
    """,
    "NOTIFICATIONS": """
        CREATE TABLE floor_inbox (event_id text PRIMARY KEY);
        CREATE TABLE floor_members (member_id text PRIMARY KEY, email text NOT NULL, name text NOT NULL);
        CREATE TABLE floor_notices (id bigserial PRIMARY KEY, member_id text NOT NULL, kind text NOT NULL,
            body text NOT NULL, status text NOT NULL DEFAULT 'pending', leased_until timestamptz, answer text,
            sent_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX floor_notices_pending ON floor_notices (id) WHERE status = 'pending';
        CREATE TABLE floor_outbox (id bigserial PRIMARY KEY, key text NOT NULL, body text NOT NULL);
    """,
    "AUTOPAY": """
        CREATE TABLE floor_inbox (event_id text PRIMARY KEY);
        CREATE TABLE floor_mandates (enrollment_id text PRIMARY KEY, coverage_status text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now());
    """,
}
DROP = "DROP TABLE IF EXISTS floor_payments, floor_outbox, floor_inbox, floor_enrollments, floor_received, "
DROP += "floor_members, floor_notices, floor_ledger, floor_mandates"


async def _leaders_elected(admin: AIOKafkaAdminClient, topics: list[str], timeout: float = 30.0) -> None:
    """New topics answer "not leader" until every partition has one; producing before that only retries."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = await admin.describe_topics(topics)
        if all(d["error_code"] == 0 and all(p["leader"] >= 0 for p in d["partitions"]) for d in described):
            return
        await asyncio.sleep(0.2)


WARM_UP = (b"w" * 5_000, b"w")
"""Two records for each new partition before the clock starts: the second append follows more than
`log.index.interval.bytes` (4,096) of log, so the partition writes its first offset and time index entries."""


class _Kafka:
    """Fresh topics for one floor run, an idempotent producer, and consumers assigned every partition.

    A new partition's offset and time indexes are sparse files Kafka maps into memory. The first write to one
    faults in a readahead window of pages that the kernel fills with zeros (`perf` on Kafka: `filemap_fault` →
    `ext4_mpage_readpages` → `zero_user_segments` → `memset`, 3–23% of its samples), and how much it zeroed
    varied from run to run: that was the floor's two speeds (5,400–6,700/s or 8,700–10,800/s, with Kafka's
    system time doubling in the slow runs). The system's own topics pay this once, when the stack starts;
    so the floor's fresh partitions are warmed up (`WARM_UP`) before it is timed, and its consumers start after
    those records."""

    def __init__(self, stack: AsyncExitStack, names: Sequence[str]) -> None:
        tag = uuid.uuid4().hex[:8]
        self.stack = stack
        self.topics = {name: f"bench.floor.{name}.{tag}" for name in names}
        self.group = f"floor-{tag}"

    async def start(self) -> AIOKafkaProducer:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap())
        await admin.start()
        self.stack.push_async_callback(admin.close)
        topics = list(self.topics.values())
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in topics])
        self.stack.push_async_callback(admin.delete_topics, topics)
        await _leaders_elected(admin, topics)
        out = AIOKafkaProducer(bootstrap_servers=bootstrap(), enable_idempotence=True, linger_ms=5)
        await out.start()
        self.stack.push_async_callback(out.stop)
        for record in WARM_UP:  # one at a time: two appends, the second of which writes the index entries
            await asyncio.gather(*[await out.send(t, record, partition=p) for t in topics for p in range(PARTITIONS)])
        return out

    async def consumer(self, name: str, group: str = "") -> AIOKafkaConsumer:
        """A consumer of topic `name` in its own group (`group` tells apart several groups of one topic)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap(),
            group_id=f"{self.group}-{name}{group}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        self.stack.push_async_callback(consumer.stop)
        partitions = [TopicPartition(self.topics[name], p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        for partition in partitions:
            consumer.seek(partition, len(WARM_UP))  # the first record after the warm-up
        return consumer


async def _connect(stack: AsyncExitStack, service: str) -> asyncpg.Connection:
    con = await asyncpg.connect(os.environ[f"{service}_DATABASE_URL"])
    stack.push_async_callback(con.close)
    return con


async def _database(stack: AsyncExitStack, service: str) -> asyncpg.Connection:
    con = await _connect(stack, service)
    await con.execute(DROP)
    stack.push_async_callback(con.execute, DROP)
    await con.execute(TABLES[service])
    return con


async def _produce(out: AIOKafkaProducer, topic: str, rows: Sequence[tuple[str, str]]) -> None:
    await asyncio.gather(*[await out.send(topic, body.encode(), key=key.encode()) for key, body in rows])


async def _relay(con: asyncpg.Connection, out: AIOKafkaProducer, topic: str, written: Sequence[Any]) -> None:
    """Produce the outbox rows a transaction wrote, then delete them: the outbox relay's reads and writes."""
    await _produce(out, topic, [(r["key"], r["body"]) for r in written])
    await con.execute("DELETE FROM floor_outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in written])


OUTBOX_SQL = "INSERT INTO floor_outbox (key, body) SELECT * FROM unnest($1::text[], $2::text[]) RETURNING *"


async def _clear(con: asyncpg.Connection, out: AIOKafkaProducer, topic: str, payment_ids: list[str]) -> None:
    """payments: the clearing day marks each payment cleared and publishes `PaymentCleared`."""
    for start in range(0, len(payment_ids), BATCH):
        async with con.transaction():
            cleared = await con.fetch(
                """
                UPDATE floor_payments SET status = 'cleared', cleared_on = $2::date
                WHERE payment_id = ANY($1::text[]) RETURNING payment_id, enrollment_id, amount
                """,
                payment_ids[start : start + BATCH],
                CLEARED_ON,
            )
            bodies = [
                json.dumps({"payment_id": r["payment_id"], "enrollment_id": r["enrollment_id"],
                            "amount": str(r["amount"]), "cleared_on": CLEARED_ON.isoformat()})
                for r in cleared
            ]  # fmt: skip
            written = await con.fetch(OUTBOX_SQL, [r["enrollment_id"] for r in cleared], bodies)
        await _relay(con, out, topic, written)


async def _consume(
    consumer: AIOKafkaConsumer,
    count: int,
    label: str | None,
    handle: Callable[[list[ConsumerRecord]], Awaitable[None]] | None,
) -> float:
    """Read `count` records, handle each batch and commit its offsets; returns when the last was handled.
    Without `handle` the records are only read and committed, as a group that does not act on them does."""
    done = 0
    while done < count:
        batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
        records = [r for rs in batches.values() for r in rs]
        if records:
            if handle is not None:
                await handle(records)
            await consumer.commit()
            done += len(records)
            if label:
                progress(label, done, count)
    return time.perf_counter()


async def _claimed(con: asyncpg.Connection, events: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The inbox: the events whose `key` was not claimed before, claimed now in the caller's transaction."""
    claimed = await con.fetch(
        "INSERT INTO floor_inbox SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id",
        [e[key] for e in events],
    )
    new = {r["event_id"] for r in claimed}
    return [e for e in events if e[key] in new]


async def _coverage(con: asyncpg.Connection, out: AIOKafkaProducer, topic: str, records: list[ConsumerRecord]) -> None:
    """coverage: claim the events, lock the enrollments, clear the received payments, activate, publish."""
    events = [json.loads(r.value) for r in records]
    async with con.transaction():
        events = await _claimed(con, events, "payment_id")
        enrollment_ids = [e["enrollment_id"] for e in events]
        locked = await con.fetch(
            "SELECT * FROM floor_enrollments WHERE enrollment_id = ANY($1::text[]) ORDER BY enrollment_id FOR UPDATE",
            enrollment_ids,
        )
        await con.execute(
            "UPDATE floor_received SET status = 'cleared', cleared_on = $2::date WHERE payment_id = ANY($1::text[])",
            [e["payment_id"] for e in events],
            CLEARED_ON,
        )
        await con.execute(
            """
            UPDATE floor_enrollments SET status = 'active', paid_through = '2027-01-31', updated_at = now()
            WHERE enrollment_id = ANY($1::text[])
            """,
            enrollment_ids,
        )
        bodies = [
            json.dumps({"enrollment_id": r["enrollment_id"], "member_id": r["member_id"],
                        "coverage_start": "2027-01-01", "paid_through": "2027-01-31"})
            for r in locked
        ]  # fmt: skip
        written = await con.fetch(OUTBOX_SQL, [r["enrollment_id"] for r in locked], bodies)
    await _relay(con, out, topic, written)


async def _notify(con: asyncpg.Connection, records: list[ConsumerRecord]) -> None:
    """notifications: claim the events, look up each member, render the welcome notice and queue it."""
    events = [json.loads(r.value) for r in records]
    async with con.transaction():
        events = await _claimed(con, events, "enrollment_id")
        members = {
            r["member_id"]: r
            for r in await con.fetch(
                "SELECT * FROM floor_members WHERE member_id = ANY($1::text[])", [e["member_id"] for e in events]
            )
        }
        bodies = [
            f"To: {members[e['member_id']]['email']}\nDear {members[e['member_id']]['name']},\n"
            f"your coverage starts on {e['coverage_start']} and is paid through {e['paid_through']}."
            for e in events
        ]
        await con.execute(
            """
            INSERT INTO floor_notices (member_id, kind, body)
            SELECT m, 'N2', b FROM unnest($1::text[], $2::text[]) x(m, b)
            """,
            [e["member_id"] for e in events],
            bodies,
        )


async def _autopay(con: asyncpg.Connection, records: list[ConsumerRecord]) -> None:
    """autopay: claim the `CoverageActivated` events and record each mandate's coverage status."""
    events = [json.loads(r.value) for r in records]
    async with con.transaction():
        events = await _claimed(con, events, "enrollment_id")
        await con.execute(
            "UPDATE floor_mandates SET coverage_status = 'active', updated_at = now() WHERE enrollment_id = ANY($1)",
            [e["enrollment_id"] for e in events],
        )


SMTP_CONNECTIONS = 8  # the email channel's pool (`PREMIUMS_SMTP_CONNECTIONS`)
SMTP_GROUP = 16  # whole transactions written at once before their replies are read, as the email channel does


class _Smtp:
    """Connections to the SMTP server, each taking whole transactions pipelined (RFC 2920 and RFC 3030)."""

    def __init__(self, sessions: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
        self.sessions = sessions

    @classmethod
    async def open(cls, stack: AsyncExitStack, connections: int) -> _Smtp:
        address = smtp_address()
        sessions = []
        for _ in range(connections):
            reader, writer = await asyncio.open_connection(address.host, address.port)
            stack.callback(writer.close)
            await _smtp_reply(reader, 220)
            writer.write(b"EHLO floor.bench.invalid\r\n")
            offered = await _smtp_reply(reader, 250)
            if "CHUNKING" not in offered or "PIPELINING" not in offered:
                raise RuntimeError(f"the SMTP server at {address.host}:{address.port} offers no CHUNKING/PIPELINING")
            sessions.append((reader, writer))
        return cls(sessions)

    async def send(self, messages: Sequence[tuple[str, bytes]]) -> list[str]:
        """Each (recipient, message) sent; the server's answer to each, in order."""
        shares = [messages[i :: len(self.sessions)] for i in range(len(self.sessions))]
        answers = await asyncio.gather(
            *(self._send_on(s, share) for s, share in zip(self.sessions, shares, strict=True))
        )
        ordered = [""] * len(messages)
        for i, share_answers in enumerate(answers):
            ordered[i :: len(self.sessions)] = share_answers
        return ordered

    @staticmethod
    async def _send_on(
        session: tuple[asyncio.StreamReader, asyncio.StreamWriter], messages: Sequence[tuple[str, bytes]]
    ) -> list[str]:
        reader, writer = session
        answers = []
        for start in range(0, len(messages), SMTP_GROUP):
            group = messages[start : start + SMTP_GROUP]
            writer.write(
                b"".join(
                    b"MAIL FROM:<notices@floor.bench.invalid>\r\nRCPT TO:<%s>\r\nBDAT %d LAST\r\n%s"
                    % (to.encode(), len(message), message)
                    for to, message in group
                )
            )
            for _ in group:
                await _smtp_reply(reader, 250)
                await _smtp_reply(reader, 250)
                answers.append(await _smtp_reply(reader, 250))
        return answers


async def _smtp_reply(reader: asyncio.StreamReader, expected: int) -> str:
    lines = []
    while True:
        line = (await reader.readline()).decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            break
    if not lines[0][:3].isdigit() or int(lines[0][:3]) != expected:
        raise RuntimeError(f"the SMTP server answered {lines!r}, not {expected}")
    return "\n".join(line[4:] for line in lines)


def _message(notice_id: int, to: str, body: str) -> bytes:
    head = f"From: notices@floor.bench.invalid\r\nTo: {to}\r\nSubject: Your coverage\r\n"
    head += f"Message-ID: <{notice_id}@floor.bench.invalid>\r\nMIME-Version: 1.0\r\n"
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()


async def _deliver(con: asyncpg.Connection, smtp: _Smtp, out: AIOKafkaProducer, topic: str, count: int) -> None:
    """notifications' sender: lease a batch of due notices (with the member's address), send them, mark them
    sent and publish `NotificationSent` through an outbox in one transaction; until `count` are sent."""
    sent = 0
    while sent < count:
        claimed = await con.fetch(
            """
            UPDATE floor_notices n SET leased_until = now() + interval '60 s'
            WHERE n.id = ANY(ARRAY(
                SELECT id FROM floor_notices
                WHERE status = 'pending' AND (leased_until IS NULL OR leased_until <= now())
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
            ))  -- by key: the table was empty when analyzed, and a join to it planned as scans took 480 ms a claim
            RETURNING n.id, n.member_id, n.body, (SELECT email FROM floor_members m WHERE m.member_id = n.member_id)
            """,
            BATCH,
        )
        if not claimed:
            await asyncio.sleep(0.01)
            continue
        answers = await smtp.send([(r["email"], _message(r["id"], r["email"], r["body"])) for r in claimed])
        async with con.transaction():
            await con.execute(
                """
                UPDATE floor_notices n SET status = 'sent', sent_at = now(), answer = a.answer
                FROM unnest($1::bigint[], $2::text[]) AS a(id, answer) WHERE n.id = a.id
                """,
                [r["id"] for r in claimed],
                answers,
            )
            bodies = [
                json.dumps({"notice_id": r["id"], "member_id": r["member_id"], "answer": a})
                for r, a in zip(claimed, answers, strict=True)
            ]
            written = await con.fetch(OUTBOX_SQL, [r["member_id"] for r in claimed], bodies)
        await _relay(con, out, topic, written)
        sent += len(claimed)
        progress("floor: notices emailed", sent, count)


async def _seed(pay: asyncpg.Connection, cov: asyncpg.Connection, note: asyncpg.Connection, count: int) -> list[str]:
    """The rows the clearing day finds (untimed): payments accepted, enrollments waiting, members to write to."""
    payments = [f"p{i}" for i in range(count)]
    enrollments = [f"e{i}" for i in range(count)]
    members = [f"m{i}" for i in range(count)]
    await pay.copy_records_to_table(
        "floor_payments", records=[(p, e, 200, "accepted", None) for p, e in zip(payments, enrollments, strict=True)]
    )
    await cov.copy_records_to_table(
        "floor_enrollments",
        records=[(e, m, "pending", None) for e, m in zip(enrollments, members, strict=True)],
        columns=["enrollment_id", "member_id", "status", "paid_through"],
    )
    await cov.copy_records_to_table(
        "floor_received", records=[(p, e, 200, "accepted", None) for p, e in zip(payments, enrollments, strict=True)]
    )
    await note.copy_records_to_table("floor_members", records=[(m, f"{m}@example.org", f"Member {m}") for m in members])
    for con in (pay, cov, note):
        await con.execute("ANALYZE")
    return payments


async def floor(count: int) -> dict[str, Any]:
    return {
        "floor_payments_per_s": await three_hops(count, deliver=True),
        "floor_three_hops_per_s": await three_hops(count),
        "floor_one_hop_per_s": await one_hop(count),
    }


async def three_hops(count: int, *, deliver: bool = False) -> float:
    """Payments per second through clearing → coverage → notice queued, the system's steady pipeline; with
    `deliver`, while the rest of the system's window runs beside it (the module's docstring)."""
    async with AsyncExitStack() as stack:
        kafka = _Kafka(stack, ["cleared", "activated", "sent"] if deliver else ["cleared", "activated"])
        out = await kafka.start()
        pay, cov, note = [await _database(stack, s) for s in ("PAYMENTS", "COVERAGE", "NOTIFICATIONS")]
        payment_ids = await _seed(pay, cov, note, count)
        to_coverage, to_notices = await kafka.consumer("cleared"), await kafka.consumer("activated")
        activated = kafka.topics["activated"]
        beside: list[Awaitable[Any]] = []
        if deliver:
            auto = await _database(stack, "AUTOPAY")
            await auto.copy_records_to_table("floor_mandates", records=[(f"e{i}", "pending") for i in range(count)],
                                             columns=["enrollment_id", "coverage_status"])  # fmt: skip
            sender, smtp = await _connect(stack, "NOTIFICATIONS"), await _Smtp.open(stack, SMTP_CONNECTIONS)
            readers = [
                await kafka.consumer(t, f"-{g}") for t, g in (("cleared", "a"), ("cleared", "n"), ("activated", "p"))
            ]
            beside = [
                _consume(await kafka.consumer("activated", "-autopay"), count, None, lambda rs: _autopay(auto, rs)),
                *(_consume(reader, count, None, None) for reader in readers),
                _deliver(sender, smtp, out, kafka.topics["sent"], count),
            ]
        with PHASE_CPU.measure("floor" if deliver else "floor: three hops", "payment", count):
            started = time.perf_counter()
            async with asyncio.timeout(max(60.0, count / 50)):  # a stalled hop fails the phase, not hangs it
                _, _, queued_at, *_ = await asyncio.gather(  # the figure ends with the last notice queued
                    _clear(pay, out, kafka.topics["cleared"], payment_ids),
                    _consume(to_coverage, count, "floor: coverage hop", lambda rs: _coverage(cov, out, activated, rs)),
                    _consume(to_notices, count, "floor: notices queued", lambda rs: _notify(note, rs)),
                    *beside,
                )
        queued, sent = await note.fetchrow("SELECT count(*), count(sent_at) FROM floor_notices")
        if queued != count or (deliver and sent != count):
            raise RuntimeError(f"the floor queued {queued} and sent {sent} notices for {count} payments")
    return round(count / (float(queued_at) - started), 1)


async def one_hop(count: int) -> float:
    """The earlier rounds' floor: one hop (consume, inbox and a ledger row in one transaction, produce, commit)."""
    async with AsyncExitStack() as stack:
        kafka = _Kafka(stack, ["source", "target"])
        out = await kafka.start()
        body = b'{"payment_id":"p","enrollment_id":"e","amount":"200.00","cleared_on":"2027-01-04"}'
        await asyncio.gather(*[await out.send(kafka.topics["source"], body, key=str(i).encode()) for i in range(count)])
        con = await asyncpg.connect(os.environ["COVERAGE_DATABASE_URL"])
        stack.push_async_callback(con.close)
        await con.execute("CREATE TEMP TABLE floor_inbox (id text PRIMARY KEY)")
        await con.execute("CREATE TEMP TABLE floor_ledger (id text PRIMARY KEY, amount numeric)")
        consumer = await kafka.consumer("source")

        async def hop(records: list[ConsumerRecord]) -> None:
            ids = [f"{r.partition}:{r.offset}" for r in records]
            async with con.transaction():
                await con.execute("INSERT INTO floor_inbox SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ids)
                await con.execute(
                    "INSERT INTO floor_ledger SELECT unnest($1::text[]), 200.00 ON CONFLICT DO NOTHING", ids
                )
            await _produce(out, kafka.topics["target"], [(r.key.decode(), r.value.decode()) for r in records])

        started = time.perf_counter()
        async with asyncio.timeout(max(60.0, count / 50)):
            await _consume(consumer, count, "floor: one hop", hop)
        elapsed = time.perf_counter() - started
    return round(count / elapsed, 1)
