"""`premiums dlq list|replay`: inspect dead-lettered records and send repaired ones back."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord
from premiums_common.parking import REPLAY_HEADER
from premiums_contracts.topics import TOPICS

from premiums_cli.kafka_io import producer, read_all


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}


def describe(record: ConsumerRecord) -> dict[str, Any]:
    headers = _headers(record)
    return {
        "dlq_topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode("utf-8", "replace") if record.key else None,
        "dead_lettered_at": datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat(),
        "ce_type": headers.get("ce_type"),
        "ce_id": headers.get("ce_id"),
        "consumer": headers.get("dlq_consumer"),
        "reason": headers.get("dlq_reason"),
        "source": f"{headers.get('dlq_source_topic')}[{headers.get('dlq_source_partition')}]@"
        f"{headers.get('dlq_source_offset')}",
    }


async def dead_letters(topic: str | None = None) -> list[ConsumerRecord]:
    names = [topic] if topic else [t.name for t in TOPICS]
    records: list[ConsumerRecord] = []
    for name in names:
        records.extend(await read_all(f"{name}.dlq"))
    return records


async def replay(dlq_records: list[ConsumerRecord]) -> int:
    """Publish each record back to its source topic, same key, body and CloudEvents headers.

    The dlq_* headers are dropped and `dlq_replay` added: the consumer processes the record although its key
    is parked, and releases the key once every held record came back. Its inbox still makes a record that was
    processed before a no-op.
    """
    async with producer() as client:
        for record in dlq_records:
            headers = [(k, v) for k, v in record.headers or () if not k.startswith("dlq_")]
            headers.append((REPLAY_HEADER, f"{record.topic}:{record.partition}:{record.offset}".encode()))
            source = _headers(record).get("dlq_source_topic") or record.topic.removesuffix(".dlq")
            await client.send_and_wait(source, value=record.value, key=record.key, headers=headers)
    return len(dlq_records)


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select(records: list[ConsumerRecord], args: argparse.Namespace) -> list[ConsumerRecord]:
    """The records an operator named: by key, by partition and offset, by time window, or all."""
    chosen = records
    if getattr(args, "key", None):
        chosen = [r for r in chosen if r.key and r.key.decode() == args.key]
    if getattr(args, "offset", None) is not None:
        chosen = [r for r in chosen if r.offset == args.offset and r.partition == args.partition]
    if getattr(args, "since", None):
        chosen = [r for r in chosen if r.timestamp >= _when(args.since).timestamp() * 1000]
    if getattr(args, "until", None):
        chosen = [r for r in chosen if r.timestamp < _when(args.until).timestamp() * 1000]
    return chosen


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("dlq", help="list, show or replay dead-lettered records")
    commands = parser.add_subparsers(dest="dlq_command", required=True)
    list_ = commands.add_parser("list", help="every dead-lettered record with its reason")
    list_.add_argument("--topic", help="source topic, e.g. payments.events")
    list_.add_argument("--json", action="store_true")
    list_.set_defaults(func=_list)
    show = commands.add_parser("show", help="one record: every header and the body")
    show.add_argument("--topic", required=True, help="source topic, e.g. payments.events")
    show.add_argument("--partition", type=int, required=True)
    show.add_argument("--offset", type=int, required=True, help="its offset in the .dlq topic")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)
    replay_ = commands.add_parser("replay", help="send dead-lettered records back to their topic, in order")
    replay_.add_argument("--topic", required=True, help="source topic, e.g. payments.events")
    which = replay_.add_mutually_exclusive_group(required=True)
    which.add_argument("--key", help="every record with this key (what a parked key needs)")
    which.add_argument("--offset", type=int, help="one record, by its offset in the .dlq topic (with --partition)")
    which.add_argument("--since", help="every record dead-lettered at or after this time (ISO 8601)")
    which.add_argument("--all", action="store_true")
    replay_.add_argument("--partition", type=int, default=0, help="with --offset")
    replay_.add_argument("--until", help="with --since: before this time (ISO 8601)")
    replay_.add_argument("--json", action="store_true")
    replay_.set_defaults(func=_replay)


def _list(args: argparse.Namespace) -> int:
    rows = [describe(r) for r in asyncio.run(dead_letters(args.topic))]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no dead-lettered records")
    for row in rows:
        print(
            f"{row['dlq_topic']}@{row['partition']}:{row['offset']}  key={row['key']}  {row['ce_type']}  "
            f"{row['consumer']}: {row['reason']}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    found = select(asyncio.run(dead_letters(args.topic)), args)
    if not found:
        print(f"no record at {args.topic}.dlq@{args.partition}:{args.offset}", file=sys.stderr)
        return 1
    record = found[0]
    view = {**describe(record), "headers": _headers(record), "body": (record.value or b"").decode("utf-8", "replace")}
    if args.json:
        print(json.dumps(view, indent=2))
    else:
        for name, value in view["headers"].items():
            print(f"{name}: {value}")
        print(f"\n{view['body']}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    records = select(asyncio.run(dead_letters(args.topic)), args)
    count = asyncio.run(replay(records))
    if args.json:
        print(json.dumps({"replayed": [describe(r) for r in records]}, indent=2))
    else:
        print(f"replayed {count} record(s) to {args.topic}")
    return 0 if count else 1
