"""Coverage's handlers, daily jobs and repository against a fresh, fully migrated PostgreSQL database.

Each test gets its own database: the daily jobs act on every enrollment, as they do in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.integration.coverage.world import World
from tests.integration.support import service_database


@pytest.fixture
async def coverage_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with service_database("premiums_coverage", max_size=5) as pool:
        yield pool


@pytest.fixture
def world(coverage_pool: asyncpg.Pool) -> World:
    return World(coverage_pool)
