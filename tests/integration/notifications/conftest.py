"""A fresh notifications database (migrated with the service's own migrations) for these tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.integration.support import service_database


@pytest.fixture(scope="module")
async def ntf_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with service_database("premiums_notifications", max_size=10) as pool:
        yield pool
