"""autopay against a brand-new PostgreSQL database, migrated as the service migrates it at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from premiums_common.database import create_pool, migrate

from tests.integration.support import fresh_database


@pytest.fixture(scope="session")
async def autopay_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database("it_autopay") as url:
        pool = await create_pool(url, min_size=2, max_size=10)
        await migrate(pool, "premiums_common", "premiums_autopay")
        try:
            yield pool
        finally:
            await pool.close()
