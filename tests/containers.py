"""Infrastructure from testcontainers, for machines with a Docker engine (`PREMIUMS_TEST_INFRA=containers`).

Kafka (KRaft) and PostgreSQL run as containers; the SMTP sink runs as a local process, as in the stack.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from premiums_cli.stack import project_root
from premiums_common.topics import create_topics

DATABASES = ("payments", "coverage", "autopay", "notifications")


async def _create_databases(admin_url: str) -> None:
    con = await asyncpg.connect(admin_url)
    try:
        for name in DATABASES:
            if not await con.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await con.execute(f'CREATE DATABASE "{name}"')
    finally:
        await con.close()


@contextmanager
def containers() -> Iterator[None]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with KafkaContainer().with_kraft() as kafka, PostgresContainer("postgres:16", driver=None) as postgres:
        base = postgres.get_connection_url().rsplit("/", 1)[0]
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.get_bootstrap_server()
        for name in DATABASES:
            os.environ[f"{name.upper()}_DATABASE_URL"] = f"{base}/{name}"
        asyncio.run(_create_databases(f"{base}/postgres"))
        asyncio.run(create_topics(os.environ["KAFKA_BOOTSTRAP_SERVERS"]))
        maildir = Path(project_root()) / ".local" / "mail"
        os.environ["PREMIUMS_MAILDIR"] = str(maildir)
        sink = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "premiums_cli.stack.smtp_sink",
                "--port",
                os.environ.get("SMTP_PORT", "1025"),
                "--maildir",
                str(maildir),
            ]
        )
        try:
            yield
        finally:
            sink.terminate()
            sink.wait(10)
