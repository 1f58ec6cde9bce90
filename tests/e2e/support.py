"""What the end-to-end tests use to act like the outside world: Kafka records, HTTP calls, the Maildir."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import date
from email.message import Message
from typing import Any, TypeVar

import httpx
from aiokafka.structs import ConsumerRecord
from premiums_cli.demo import mail_for
from premiums_cli.kafka_io import read_all
from premiums_cli.token import token_for
from premiums_contracts.events import EnrollmentSubmitted

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


def advance_to(day: date) -> None:
    """Move the shared business clock forward to `day` (never back) and wait until every service is idle."""
    if day > business_date():
        premiums("clock", "advance", "--to", day.isoformat(), "--wait")


def member_auth(e: EnrollmentSubmitted) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(e.member_id, 'member')}"}


async def enrollment_view(e: EnrollmentSubmitted) -> dict[str, Any]:
    """What the member sees in the portal: `GET /v1/enrollments/{id}` on coverage."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(f"{COVERAGE}/v1/enrollments/{e.enrollment_id}", headers=member_auth(e))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def coverage_events(e: EnrollmentSubmitted, name: str) -> list[dict[str, Any]]:
    return [body_of(r) for r in await records_for("coverage.events", e.enrollment_id, f"coverage.{name}.v1")]


async def try_to_pay(e: EnrollmentSubmitted, amount: str, account_number: str = "000555123456") -> httpx.Response:
    """As the member in the portal: vault an account, then pay with a fresh Idempotency-Key."""
    async with httpx.AsyncClient(timeout=30) as http:
        account = {
            "routing_number": "011000015",
            "account_number": account_number,
            "account_type": "checking",
            "holder_name": f"{e.member.first_name} {e.member.last_name}",
        }
        vaulted = await http.post(f"{PAYMENTS}/v1/bank-accounts", headers=member_auth(e), json=account)
        assert vaulted.status_code == 201, vaulted.text
        order = {
            "enrollment_id": e.enrollment_id,
            "amount": amount,
            "payment_method": {"type": "bank_account", "instrument_token": vaulted.json()["instrument_token"]},
        }
        headers = {**member_auth(e), "Idempotency-Key": str(uuid.uuid4())}
        return await http.post(f"{PAYMENTS}/v1/payments", headers=headers, json=order)


async def pay(e: EnrollmentSubmitted, amount: str, account_number: str = "000555123456") -> dict[str, Any]:
    """A portal payment that must be accepted (retried while payments has not yet heard of the enrollment)."""

    async def accepted() -> dict[str, Any] | None:
        response = await try_to_pay(e, amount, account_number)
        return response.json() if response.status_code == 201 else None  # type: ignore[no-any-return]

    return await eventually(accepted, timeout=60, interval=0.5, what=f"payment of {amount} for {e.enrollment_id}")
