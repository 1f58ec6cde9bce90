"""The local stack (`premiums_cli.stack`): real Kafka, PostgreSQL and SMTP sink, started by the project.

The stack is left running afterwards: other integration tests reuse it.
"""

from __future__ import annotations

import email.message
import mailbox
import smtplib
import uuid
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError
from premiums_cli import stack
from premiums_contracts.topics import all_topics_with_dead_letters

pytestmark = pytest.mark.integration

DATABASE_KEYS = (
    "PAYMENTS_DATABASE_URL",
    "COVERAGE_DATABASE_URL",
    "AUTOPAY_DATABASE_URL",
    "NOTIFICATIONS_DATABASE_URL",
)


def _infra_pids(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["component"]: row["pid"] for row in rows if row["kind"] == "infra"}


@pytest.fixture(scope="module")
def infra() -> dict[str, str]:
    stack.up(infra_only=True)
    return stack.local_environment()


async def test_every_declared_topic_exists_with_its_partitions(infra: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"])
    await admin.start()
    try:
        described = {entry["topic"]: entry for entry in await admin.describe_topics()}
    finally:
        await admin.close()
    for topic in all_topics_with_dead_letters():
        assert topic.name in described, f"topic {topic.name} is missing"
        assert described[topic.name]["error_code"] == 0
        assert len(described[topic.name]["partitions"]) == topic.partitions, topic.name


async def test_broker_never_auto_creates_topics(infra: dict[str, str]) -> None:
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])
        configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
        assert configs["auto.create.topics.enable"] == "false"

        unknown = f"premiums.test.unknown-{uuid.uuid4().hex[:8]}"
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        await producer.start()
        try:
            with pytest.raises(KafkaError):
                await producer.send_and_wait(unknown, b"nobody listens")
        finally:
            await producer.stop()
        assert unknown not in await admin.list_topics()
    finally:
        await admin.close()


@pytest.mark.parametrize("key", DATABASE_KEYS)
async def test_each_service_database_accepts_connections(infra: dict[str, str], key: str) -> None:
    connection = await asyncpg.connect(infra[key], timeout=10)
    try:
        assert await connection.fetchval("SELECT current_database()") == infra[key].rsplit("/", 1)[1]
    finally:
        await connection.close()


def test_smtp_sink_stores_each_message_in_the_maildir(infra: dict[str, str]) -> None:
    subject = f"stack test {uuid.uuid4()}"
    message = email.message.EmailMessage()
    message["From"] = "billing@premiums.example"
    message["To"] = "member@example.org"
    message["Subject"] = subject
    message.set_content("Your premium is due.")
    with smtplib.SMTP(infra["SMTP_HOST"], int(infra["SMTP_PORT"]), timeout=10) as client:
        client.send_message(message)

    maildir = stack.project_root() / ".local" / "mail"
    assert maildir.as_posix() == infra["PREMIUMS_MAILDIR"]
    stored = [msg for msg in mailbox.Maildir(maildir, create=False) if msg["Subject"] == subject]
    assert len(stored) == 1
    assert stored[0]["To"] == "member@example.org"
    assert stored[0]["X-Envelope-To"] == "<member@example.org>"
    assert any((maildir / "new").iterdir())


def test_second_up_is_a_no_op_that_keeps_the_same_processes(infra: dict[str, str]) -> None:
    before = _infra_pids(stack.status())
    assert set(before) == {"kafka", "postgres", "smtp"}
    assert all(before.values())

    stack.up(infra_only=True)

    after = stack.status()
    assert _infra_pids(after) == before
    assert all(row["state"] == "running" for row in after if row["kind"] == "infra")


def test_secrets_are_generated_once_and_shared(infra: dict[str, str]) -> None:
    again = stack.local_environment()
    assert again["PREMIUMS_DATA_KEY"] == infra["PREMIUMS_DATA_KEY"]
    assert again["PREMIUMS_JWT_SECRET"] == infra["PREMIUMS_JWT_SECRET"]
    assert again["PREMIUMS_CLOCK"] in {"simulated", infra["PREMIUMS_CLOCK"]}
