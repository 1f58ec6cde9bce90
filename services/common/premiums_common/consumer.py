"""Consuming events: a batch in one transaction, an inbox against redelivery, dead letters for poison.

The flow for each batch FastStream hands over (ARCHITECTURE §6, §7):
1. decode every record into an `Incoming` (envelope + model); records that cannot be decoded, or whose
   `ce_type` nobody knows, go to `<topic>.dlq` at once with the reason; a known type this consumer has no
   handler for is skipped without parsing its body;
2. in one database transaction: claim the batch's `ce_id`s in the inbox (one statement), run the handler
   of each new event, and store the events they cause in the outbox;
3. if that transaction fails, fall back to one record per transaction, with bounded retries, so a single
   poison record goes to the dead-letter topic and the rest of the batch commits;
4. only then does FastStream commit the offsets (`NACK_ON_ERROR`): a crash anywhere before re-delivers
   the batch, and the inbox makes the second pass change nothing.
Infrastructure failures (database or broker unreachable) are never dead-lettered: the batch is nacked
and re-delivered after a pause.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from opentelemetry.trace import Span, SpanKind
from premiums_contracts import Envelope, EnvelopeError, Event, event_class
from pydantic import ValidationError

from premiums_common import inbox, outbox, parking
from premiums_common.metrics import BATCH_SECONDS, BATCH_SIZE, DEAD_LETTERS, EVENTS_HANDLED
from premiums_common.outbox import Outgoing
from premiums_common.tracing import context_from, tracer

log = logging.getLogger(__name__)

MAX_RECORD_BYTES = 256 * 1024  # our events are a few KB; anything this big is not one of them
BLOCKED_PAUSE = 5.0
HELD_REASON = "held: an earlier record with this key is in the dead-letter topic; replay them in order"


class Rejected(Exception):
    """A record that can never succeed as it is (unknown enrollment, broken invariant): dead-letter it."""


INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


@dataclass(frozen=True)
class Incoming:
    envelope: Envelope
    event: Any
    topic: str
    partition: int
    offset: int
    key: str
    record: ConsumerRecord


Handler = Callable[[asyncpg.Connection, Incoming], Awaitable[Sequence[Outgoing] | None]]
BatchHandler = Callable[[asyncpg.Connection, Sequence[Incoming]], Awaitable[Sequence[Outgoing]]]
"""The set-based twin of a `Handler`: the same rules for a run of events of one type and distinct keys, in a
few statements for the whole run. The one-event `Handler` stays the reference, and the fallback: a run
that fails is retried one event per transaction through it."""
UnitOfWork = Callable[[asyncpg.Connection], AbstractAsyncContextManager[object]]
"""Wraps the handlers of one transaction: work they defer (bulk writes) is done on a clean exit, before commit."""


@dataclass(frozen=True)
class Poison:
    record: ConsumerRecord
    reason: str
    holds_key: bool = True
    """An event type this consumer's contracts do not know yet (a newer producer added it) is recorded in the
    dead-letter topic but does not hold its key back: contracts grow by adding types, and an older consumer
    must keep going on the events it knows (replay it once the consumer is upgraded)."""


def decode(record: ConsumerRecord, acts_on: Collection[type[Event]] | None = None) -> Incoming | Poison | None:
    """The record as an event, or why it is poison; None for a known event type outside `acts_on` (its body
    is not this consumer's business, so it is not parsed: most records on a shared topic are not)."""
    if acts_on is not None and _not_acted_on(record, acts_on):
        return None
    try:
        envelope = Envelope.from_headers(record.headers or ())
    except EnvelopeError as exc:
        return Poison(record, str(exc))
    model = event_class(envelope.type)
    if model is None:
        return Poison(record, f"unknown ce_type {envelope.type!r}", holds_key=False)
    if not record.value:
        return Poison(record, "the record has no body")
    if len(record.value) > MAX_RECORD_BYTES:
        return Poison(record, f"a body of {len(record.value):,} bytes is larger than the {MAX_RECORD_BYTES:,} accepted")
    try:
        event = model.model_validate_json(record.value)
    except ValidationError as exc:
        return Poison(record, f"body does not match {envelope.type}: {_plain(exc)}")
    key = _key_of(record)
    return Incoming(envelope, event, record.topic, record.partition, record.offset, key, record)


def _not_acted_on(record: ConsumerRecord, acts_on: Collection[type[Event]]) -> bool:
    """A known event type outside `acts_on`, and not a replay (a replay always goes through)."""
    ce_type = None
    for name, value in record.headers or ():
        if name == parking.REPLAY_HEADER:
            return False
        if name == "ce_type" and value:
            ce_type = value.decode("utf-8", "replace")
    model = event_class(ce_type) if ce_type else None
    return model is not None and model not in acts_on


def _plain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])


class EventConsumer:
    """One consumer group: the topics it reads and a handler per event type it acts on.

    Events on those topics that it has no handler for are skipped (and their offsets committed).
    """

    def __init__(
        self,
        name: str,
        topics: Sequence[str],
        handlers: dict[type[Event], Handler],
        *,
        retries: int = 3,
        backoff: float = 0.2,
        max_records: int = 500,
        block_on_failure: bool = False,
        unit_of_work: UnitOfWork | None = None,
        batch_handlers: dict[type[Event], BatchHandler] | None = None,
    ) -> None:
        self.name = name
        self.topics = tuple(topics)
        self.handlers = dict(handlers)
        self.retries = retries
        self.backoff = backoff
        self.max_records = max_records
        self.block_on_failure = block_on_failure
        self.unit_of_work = unit_of_work
        self.batch_handlers = dict(batch_handlers or {})
        assert set(self.batch_handlers) <= set(self.handlers), "a batch handler needs its one-event reference"
        self._pool: asyncpg.Pool | None = None
        self._producer: AIOKafkaProducer | None = None
        self._source = ""

    def bind(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, source: str) -> None:
        self._pool, self._producer, self._source = pool, producer, source

    def subscribe(self, broker: KafkaBroker) -> None:
        subscriber = broker.subscriber(
            *self.topics,
            group_id=self.name,
            batch=True,
            max_records=self.max_records,
            batch_timeout_ms=50,
            auto_offset_reset="earliest",
            decoder=_keep_raw,
            title=self.name,
        )

        @subscriber
        async def on_batch(records: tuple[ConsumerRecord, ...]) -> None:
            await self.process(records)

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        BATCH_SIZE.labels(self.name).observe(len(records))
        with BATCH_SECONDS.labels(self.name).time():
            await self._process(records)

    async def _process(self, records: Sequence[ConsumerRecord]) -> None:
        assert self._pool is not None
        held = set() if self.block_on_failure else await parking.parked(self._pool, self.name)
        ready: list[Incoming] = []
        for item in (decode(record, self.handlers) for record in records):
            if item is None:
                continue
            if isinstance(item, Poison) and not item.holds_key:
                await self.dead_letter(item.record, item.reason)
            elif isinstance(item, Poison):
                await self._dead_letter_and_hold(item.record, item.reason, held)
            elif (item.topic, item.key) in held and not _is_replay(item.record):
                await self._dead_letter_and_hold(item.record, HELD_REASON, held)
            else:
                ready.append(item)
        if not ready:
            return
        try:
            await self._in_transaction(ready)
        except INFRASTRUCTURE_ERRORS:
            log.warning("infrastructure unavailable; batch will be re-delivered", exc_info=True)
            await asyncio.sleep(2.0)
            raise
        except Exception:
            log.warning("batch failed; processing its %d records one by one", len(ready), exc_info=True)
            for event in ready:
                if (event.topic, event.key) in held and not _is_replay(event.record):
                    await self._dead_letter_and_hold(event.record, HELD_REASON, held)
                else:
                    await self._one_with_retries(event, held)

    async def _one_with_retries(self, event: Incoming, held: set[parking.ParkedKey]) -> None:
        for attempt in range(1, self.retries + 1):
            try:
                await self._in_transaction([event])
                return
            except INFRASTRUCTURE_ERRORS:
                await asyncio.sleep(2.0)
                raise
            except Rejected as exc:
                await self._dead_letter_and_hold(event.record, str(exc), held, exc)
                return
            except Exception as exc:
                if attempt == self.retries:
                    if self.block_on_failure:
                        # A stream where order is everything (the business clock): never skip a record. The
                        # batch is re-delivered after a pause until the cause is fixed, then goes on by itself.
                        log.error(
                            "record failed; the stream waits for a fix",
                            exc_info=True,
                            extra={"consumer": self.name, "offset": event.offset},
                        )
                        await asyncio.sleep(BLOCKED_PAUSE)
                        raise
                    await self._dead_letter_and_hold(event.record, f"failed {attempt} times: {exc!r}", held, exc)
                    return
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))

    async def _dead_letter_and_hold(
        self, record: ConsumerRecord, reason: str, held: set[parking.ParkedKey], exc: BaseException | None = None
    ) -> None:
        """Dead-letter the record and park its key, so later records of the key wait behind it."""
        assert self._pool is not None
        key = (record.topic, _key_of(record))
        await self.dead_letter(record, reason, exc)
        if self.block_on_failure:
            return  # only undecodable records reach here; the stream itself never parks
        # A replay that fails again takes back its own place in the queue; anything else adds one.
        await parking.hold(self._pool, self.name, *key, count=0 if _is_replay(record) and key in held else 1)
        held.add(key)

    async def _in_transaction(self, events: Sequence[Incoming]) -> None:
        assert self._pool is not None
        handled = [e for e in events if type(e.event) in self.handlers]
        replays = [e for e in events if _is_replay(e.record)]
        if not handled and not replays:
            return  # nothing this consumer acts on: no transaction, no inbox rows
        async with self._pool.acquire() as con, con.transaction():
            for replay in replays:
                await parking.release_one(con, self.name, replay.topic, replay.key)
            fresh = await inbox.claim(con, self.name, [e.envelope.id for e in handled])
            caused: list[Outgoing] = []
            async with self.unit_of_work(con) if self.unit_of_work else nullcontext():
                await self._handle_each(con, handled, fresh, caused)
            await outbox.add(con, caused)

    async def _handle_each(
        self, con: asyncpg.Connection, handled: Sequence[Incoming], fresh: set[str], caused: list[Outgoing]
    ) -> None:
        new: list[Incoming] = []
        for event in handled:
            if event.envelope.id in fresh:
                fresh.discard(event.envelope.id)  # a duplicate inside one batch is handled once
                new.append(event)
        for run in runs(new, self.batch_handlers):
            kind = type(run[0].event)
            if len(run) > 1:
                caused.extend(await self.batch_handlers[kind](con, run))
            else:
                with handling(self.name, run[0]):
                    caused.extend(await self.handlers[kind](con, run[0]) or ())
            EVENTS_HANDLED.labels(self.name, run[0].envelope.type).inc(len(run))

    async def dead_letter(self, record: ConsumerRecord, reason: str, exc: BaseException | None = None) -> None:
        assert self._producer is not None
        headers = [
            *list(record.headers or ()),
            ("dlq_reason", reason.encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
        ]
        if exc is not None:
            trace = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            headers.append(("dlq_exception", trace[:2000].encode()))
        await self._producer.send_and_wait(f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers)
        DEAD_LETTERS.labels(self.name, record.topic).inc()
        log.error(
            "record dead-lettered",
            extra={
                "consumer": self.name,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason,
            },
        )


def runs(events: Sequence[Incoming], batched: Collection[type[Event]]) -> list[list[Incoming]]:
    """Cut the batch, in order, into runs a handler can take at once: consecutive events of one type that
    has a batch handler, each key at most once in a run. Any other event is a run of its own.

    Records of a key keep their order (they are in one partition, and runs are handled in batch order), and
    a run never holds two events of a key, so a set-based handler sees each enrollment once.
    """
    out: list[list[Incoming]] = []
    keys: set[tuple[str, str]] = set()
    for event in events:
        kind = type(event.event)
        key = (event.topic, event.key)
        current = out[-1] if out else None
        if current is not None and kind in batched and type(current[0].event) is kind and key not in keys:
            current.append(event)
        else:
            out.append([event])
            keys.clear()
        keys.add(key)
    return out


def handling(consumer: str, event: Incoming) -> AbstractContextManager[Span]:
    """The consumer span of one event, a child of its producer's span: what a handler does inside it
    (and the events it causes) stays in the event's trace."""
    return tracer.start_as_current_span(
        f"{consumer} handle {event.envelope.type}",
        context=context_from(event.envelope.traceparent),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": event.topic,
            "messaging.message.id": event.envelope.id,
            "premiums.key": event.key,
        },
    )


def _key_of(record: ConsumerRecord) -> str:
    return record.key.decode("utf-8", "replace") if record.key else ""


def _is_replay(record: ConsumerRecord) -> bool:
    return any(name == parking.REPLAY_HEADER for name, _ in record.headers or ())


async def _keep_raw(msg: Any) -> Any:
    """Hand the handler the aiokafka records themselves: it needs headers, keys and offsets."""
    return msg.raw_message
