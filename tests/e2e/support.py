"""What the end-to-end tests use to act like the outside world: Kafka records, HTTP calls, the Maildir."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from email.message import Message
from typing import Any, TypeVar

from aiokafka.structs import ConsumerRecord
from premiums_cli.demo import mail_for
from premiums_cli.kafka_io import read_all

from tests.polling import eventually

T = TypeVar("T")

PAYMENTS = "http://127.0.0.1:8001"
COVERAGE = "http://127.0.0.1:8003"
NOTIFICATIONS = "http://127.0.0.1:8004"


def headers_of(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers or ()}


async def records_for(topic: str, key: str, ce_type: str | None = None) -> list[ConsumerRecord]:
    return [
        r
        for r in await read_all(topic)
        if r.key and r.key.decode() == key and (ce_type is None or headers_of(r).get("ce_type") == ce_type)
    ]


async def one_record(topic: str, key: str, ce_type: str) -> ConsumerRecord:
    async def probe() -> list[ConsumerRecord]:
        return await records_for(topic, key, ce_type)

    found = await eventually(probe, timeout=60.0, interval=0.25, what=f"{ce_type} for {key} on {topic}")
    assert len(found) == 1, f"expected one {ce_type} for {key}, found {len(found)}"
    return found[0]


def body_of(record: ConsumerRecord) -> dict[str, Any]:
    return json.loads(record.value)  # type: ignore[no-any-return]


async def mails(address: str, *, at_least: int, timeout: float = 60.0) -> list[Message]:
    async def probe() -> list[Message] | None:
        found = mail_for(address)
        return found if len(found) >= at_least else None

    return await eventually(probe, timeout=timeout, interval=0.25, what=f"{at_least} emails to {address}")


def text_of(message: Message) -> str:
    parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    return "".join(p.get_payload(decode=True).decode() for p in parts)  # type: ignore[union-attr]


def business_date() -> date:
    """The simulated business date every service works on (the `system` fixture makes sure there is one)."""
    return date.fromisoformat(premiums("clock", "show").strip())


def premiums(*args: str) -> str:
    """Run the `premiums` command line as an operator would."""
    result = subprocess.run(
        [sys.executable, "-m", "premiums_cli.main", *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"premiums {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout
