"""autopay against a brand-new PostgreSQL database, migrated as the service migrates it at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.integration.support import service_database


@pytest.fixture(scope="session")
async def autopay_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with service_database("premiums_autopay", max_size=10) as pool:
        yield pool
