"""Coverage's handlers, daily jobs and repository against a fresh, fully migrated PostgreSQL database.

Each test gets its own database: the daily jobs act on every enrollment, as they do in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from premiums_common.database import create_pool, migrate

from tests.integration.coverage.world import World
from tests.integration.support import fresh_database


@pytest.fixture
async def coverage_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database("it_coverage") as url:
        pool = await create_pool(url, min_size=1, max_size=5)
        await migrate(pool, "premiums_common", "premiums_coverage")
        try:
            yield pool
        finally:
            await pool.close()


@pytest.fixture
def world(coverage_pool: asyncpg.Pool) -> World:
    return World(coverage_pool)
