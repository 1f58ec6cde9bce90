"""The benchmark's floor (issue 8): raw aiokafka and asyncpg doing the steady pipeline's reads and writes.

`three_hops` raises unless every payment ends as a queued notice (and, with `deliver`, an emailed one);
afterwards it leaves no table in the services' databases and no topic on the broker.
"""

from __future__ import annotations

import os

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from premiums_cli.bench.floor import three_hops
from premiums_cli.kafka_io import bootstrap

from tests.polling import eventually

pytestmark = pytest.mark.integration


async def _floor_tables(service: str) -> list[str]:
    con = await asyncpg.connect(os.environ[f"{service}_DATABASE_URL"])
    try:
        return [
            r["tablename"] for r in await con.fetch("SELECT tablename FROM pg_tables WHERE tablename LIKE 'floor%'")
        ]
    finally:
        await con.close()


async def _floor_topics() -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap())
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if t.startswith("bench.floor.")]
    finally:
        await admin.close()


@pytest.mark.parametrize("deliver", [False, True], ids=["three hops", "with the window's other work"])
async def test_every_payment_goes_through_the_hops_and_nothing_is_left_behind(
    infrastructure: None, deliver: bool
) -> None:
    """With `deliver`, autopay's hop, the groups that only read, and the sender run beside the three hops, and
    `three_hops` raises unless every notice was also accepted by the SMTP server."""
    per_second = await three_hops(600, deliver=deliver)

    assert per_second > 0
    for service in ("PAYMENTS", "COVERAGE", "NOTIFICATIONS", "AUTOPAY"):
        assert await _floor_tables(service) == [], service

    async def no_topics_left() -> bool:
        return await _floor_topics() == []

    assert await eventually(no_topics_left, timeout=30.0, interval=0.5, what="the floor's topics deleted")
