"""A fresh notifications database (migrated with the service's own migrations) for these tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from premiums_common.database import create_pool, migrate

from tests.integration.support import fresh_database


@pytest.fixture(scope="module")
async def ntf_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database("ntf") as url:
        pool = await create_pool(url, min_size=1, max_size=10)
        await migrate(pool, "premiums_common", "premiums_notifications")
        try:
            yield pool
        finally:
            await pool.close()
