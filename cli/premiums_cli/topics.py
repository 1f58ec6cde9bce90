"""`premiums topics`: every topic with its partitions and records, and each consumer group's lag."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from premiums_contracts.topics import all_topics_with_dead_letters

from premiums_cli.idle import consumer_groups, consumer_lag
from premiums_cli.kafka_io import bootstrap, partitions_of


async def overview() -> dict[str, Any]:
    names = [t.name for t in all_topics_with_dead_letters()]
    known = await partitions_of(names)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap(), group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(name, p) for name in names for p in sorted(known.get(name, ()))]
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
    finally:
        await consumer.stop()
    topics = [
        {
            "topic": name,
            "partitions": len(known.get(name, ())),
            "records": sum(ends[tp] - starts[tp] for tp in tps if tp.topic == name),
            "declared_partitions": declared.partitions,
        }
        for name, declared in ((t.name, t) for t in all_topics_with_dead_letters())
    ]
    groups = consumer_groups()
    lag = await consumer_lag(groups)
    return {"topics": topics, "consumer_groups": [{"group": g, "topics": groups[g], "lag": lag[g]} for g in groups]}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("topics", help="topics, partitions and consumer lag")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    report = asyncio.run(overview())
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'TOPIC':<26} {'PARTITIONS':>10} {'RECORDS':>10}")
    for topic in report["topics"]:
        mismatch = "" if topic["partitions"] == topic["declared_partitions"] else "  (declared differently!)"
        print(f"{topic['topic']:<26} {topic['partitions']:>10} {topic['records']:>10}{mismatch}")
    print(f"\n{'CONSUMER GROUP':<26} {'LAG':>10}  TOPICS")
    for group in report["consumer_groups"]:
        print(f"{group['group']:<26} {group['lag']:>10}  {', '.join(group['topics'])}")
    return 0
