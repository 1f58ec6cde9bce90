"""payments' handlers and repository against a fresh, migrated PostgreSQL database (no Kafka, no HTTP)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
from premiums_common.service import Service
from premiums_common.settings import Settings
from premiums_payments.adapters.sandbox_bank import SandboxGateway
from premiums_payments.adapters.vault import Vault
from premiums_payments.handlers import Payments

from tests.integration.support import service_database

DATA_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="session")
async def payments_pool(infrastructure: None) -> AsyncIterator[asyncpg.Pool]:
    async with service_database("premiums_payments", max_size=5) as pool:
        yield pool


def settings(database_url: str = "postgresql://unused/unused") -> Settings:
    return Settings(
        service="payments",
        kafka_bootstrap_servers="127.0.0.1:9092",
        database_url=database_url,
        http_host="127.0.0.1",
        http_port=0,
        clock_mode="simulated",
        jwt_secret="integration",
        data_key=DATA_KEY,
        smtp_host="127.0.0.1",
        smtp_port=1025,
        maildir=None,
        log_level="INFO",
    )


@pytest.fixture
def vault() -> Vault:
    return Vault(DATA_KEY)


@pytest.fixture
def payments(vault: Vault) -> Payments:
    service = Service(settings(), package="premiums_payments", title="payments", description="integration")
    return Payments(service, vault, SandboxGateway(vault))


@pytest.fixture
async def con(payments_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One transaction per test, rolled back: daily jobs settle whole dates, so tests must not see each other."""
    async with payments_pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        finally:
            await transaction.rollback()
