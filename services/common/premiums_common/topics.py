"""Topics are created from the contracts' one declarative list, never auto-created (ARCHITECTURE §2)."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from premiums_contracts.topics import all_topics_with_dead_letters

TOPIC_ALREADY_EXISTS = 36


class TopicsError(RuntimeError):
    """The broker refused to create a topic."""


async def create_topics(bootstrap: str) -> int:
    """Create every missing topic of `premiums_contracts.topics` (the only source); wait for their metadata.

    Returns how many topics were created.
    """
    wanted = {topic.name: topic for topic in all_topics_with_dead_letters()}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for name, topic in wanted.items() if name not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(t.name, t.partitions, 1, topic_configs={"retention.ms": str(t.retention_ms)})
                    for t in missing
                ]
            )
            failures = [
                f"{error[0]}: error {error[1]} {error[2] if len(error) > 2 else ''}".rstrip()
                for error in response.topic_errors
                if error[1] not in (0, TOPIC_ALREADY_EXISTS)
            ]
            if failures:
                raise TopicsError("kafka: creating topics failed: " + "; ".join(failures))
        while True:
            described = await admin.describe_topics(list(wanted))
            partitions = {entry["topic"]: len(entry["partitions"]) for entry in described if entry["error_code"] == 0}
            if all(partitions.get(name, 0) >= topic.partitions for name, topic in wanted.items()):
                return len(missing)
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
