"""Consumer lag: how many records each consumer group still has to read, per group (ARCHITECTURE §7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def consumer_lag(bootstrap_servers: str, groups: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """For each group, the records between its committed offsets and the end of its topics' partitions.

    A partition the group never committed counts from its start (the groups read from the earliest offset).
    """
    async with LagProbe(bootstrap_servers) as probe:
        return await probe.lag(groups)


class LagProbe:
    """`consumer_lag` with its clients kept open between questions: a wait that asks every quarter second
    would otherwise connect and find every group's coordinator anew each time."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)

    async def __aenter__(self) -> LagProbe:
        await self._admin.start()
        try:
            await self._consumer.start()
        except BaseException:
            await self._admin.close()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def lag(self, groups: Mapping[str, Sequence[str]]) -> dict[str, int]:
        topics = sorted({t for ts in groups.values() for t in ts})
        described = await self._admin.describe_topics(topics)
        partitions = [
            TopicPartition(d["topic"], p["partition"])
            for d in described
            if d["error_code"] == 0
            for p in d["partitions"]
        ]
        ends = await self._consumer.end_offsets(partitions)
        lag: dict[str, int] = {}
        for group, group_topics in groups.items():
            committed = await self._admin.list_consumer_group_offsets(group)
            lag[group] = sum(
                max(0, ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0))
                for tp in partitions
                if tp.topic in group_topics
            )
        return lag
