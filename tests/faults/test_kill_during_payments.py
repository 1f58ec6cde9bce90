"""Nothing lost, nothing twice: faults while members pay (ARCHITECTURE §6; issue 7; the short fault run).

Enrollments are billed, members pay through the portal (retrying with the same Idempotency-Key, as a
browser does), and in the middle one kind of fault strikes:
- kill -9 of coverage and notifications (no drain, no commit), then a restart;
- SIGTERM of payments, the service members are talking to, then a restart;
- the Kafka broker stopped and started again under every service;
- PostgreSQL stopped and started again under every service;
- the SMTP server down for a while, then back;
- a second coverage and a second notifications process joining the consumer groups and leaving them
  again (two rebalances).
Afterwards every payment is applied exactly once, every enrollment is active with nothing owed, each
member saw one confirmation, and `premiums audit`, reading every database and topic, finds no breach.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from email.message import Message

import httpx
import pytest
from premiums_cli import stack
from premiums_cli.demo import first_of_month_after_next, mail_for, new_enrollment, submit_enrollment
from premiums_cli.token import token_for

from tests.e2e.support import COVERAGE, PAYMENTS, body_of, business_date, headers_of, premiums, records_for
from tests.polling import eventually

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("system"), pytest.mark.timeout(600)]

MEMBERS = int(os.environ.get("PREMIUMS_FAULT_MEMBERS", "40"))  # `make faults` runs the long version


ACCOUNT = {
    "routing_number": "011000015",
    "account_number": "000555000111",
    "account_type": "checking",
    "holder_name": "Fault Test",
}


async def _answered(call: Callable[[], Awaitable[httpx.Response]], expected: int, what: str) -> httpx.Response:
    """Retry like a member's browser: through refused connections and 5xx answers while a part restarts."""
    for _ in range(120):
        try:
            response = await call()
            if response.status_code == expected:
                return response
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} never answered {expected}")


async def _vault_and_pay(http: httpx.AsyncClient, enrollment_id: str, member_id: str) -> dict:
    auth = {"Authorization": f"Bearer {token_for(member_id, 'member')}"}
    probe = {"enrollment_id": enrollment_id, "amount": "1.00", "payment_method": {"type": "bank_account", **ACCOUNT}}
    await _answered(
        lambda: http.post(f"{PAYMENTS}/v1/payments/preview", headers=auth, json=probe), 200, f"{enrollment_id} billed"
    )
    vault_key = {"Idempotency-Key": str(uuid.uuid4())}
    account = await _answered(
        lambda: http.post(f"{PAYMENTS}/v1/bank-accounts", headers={**auth, **vault_key}, json=ACCOUNT), 201, "vault"
    )
    order = {
        "enrollment_id": enrollment_id,
        "amount": "250.00",
        "payment_method": {"type": "bank_account", "instrument_token": account.json()["instrument_token"]},
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}  # the same key on every retry: one payment, whatever happens
    paid = await _answered(
        lambda: http.post(f"{PAYMENTS}/v1/payments", headers={**auth, **key}, json=order), 201, "pay"
    )
    return paid.json()  # type: ignore[no-any-return]


def _distinct_message_ids(messages: list[Message], marker: str) -> int:
    return len({m["Message-ID"] for m in messages if marker in (m["Subject"] or "")})


async def kill_9_coverage_and_notifications() -> None:
    for victim in ("coverage", "notifications"):
        stack.stop_service(victim, signal.SIGKILL)
    await asyncio.sleep(1.0)
    for victim in ("coverage", "notifications"):
        await asyncio.to_thread(stack.start_service, victim)


async def sigterm_payments() -> None:
    await asyncio.to_thread(stack.stop_service, "payments", signal.SIGTERM)
    await asyncio.to_thread(stack.start_service, "payments")


async def restart_part(name: str, down_for: float) -> None:
    await asyncio.to_thread(stack.stop_infrastructure, name)
    await asyncio.sleep(down_for)
    await asyncio.to_thread(stack.start_infrastructure, name)


async def restart_kafka() -> None:
    await restart_part("kafka", 2.0)


async def restart_postgres() -> None:
    await restart_part("postgres", 2.0)


async def smtp_outage() -> None:
    await restart_part("smtp", 8.0)


async def second_replicas_join_and_leave() -> None:
    for service in ("coverage", "notifications"):
        await asyncio.to_thread(stack.scale, service, 2)
    await asyncio.sleep(3.0)
    for service in ("coverage", "notifications"):
        await asyncio.to_thread(stack.scale, service, 1)


FAULTS = {
    "kill -9 coverage and notifications": kill_9_coverage_and_notifications,
    "SIGTERM payments": sigterm_payments,
    "Kafka broker restart": restart_kafka,
    "PostgreSQL restart": restart_postgres,
    "SMTP server outage": smtp_outage,
    "consumer group rebalance": second_replicas_join_and_leave,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_members_paying_through_a_fault_lose_and_double_nothing(fault: str) -> None:
    members = MEMBERS if fault.startswith("kill") else MEMBERS // 2
    start = first_of_month_after_next(business_date())
    enrollments = [new_enrollment(start, premium="250.00") for _ in range(members)]
    for enrollment in enrollments:
        await submit_enrollment(enrollment)

    async def chaos() -> None:
        await asyncio.sleep(random.uniform(0.5, 2.0))
        await FAULTS[fault]()

    async with httpx.AsyncClient(timeout=30) as http:
        payments, _ = await asyncio.gather(
            asyncio.gather(*(_vault_and_pay(http, e.enrollment_id, e.member_id) for e in enrollments)), chaos()
        )
    settles_on = max(p["settles_on"] for p in payments)
    premiums("clock", "advance", "--to", settles_on, "--wait")

    async with httpx.AsyncClient(timeout=30) as http:
        for enrollment in enrollments:
            auth = {"Authorization": f"Bearer {token_for(enrollment.member_id, 'member')}"}

            async def active(enrollment_id: str = enrollment.enrollment_id, auth: dict = auth) -> dict | None:
                view = (await http.get(f"{COVERAGE}/v1/enrollments/{enrollment_id}", headers=auth)).json()
                return view if view.get("status") == "active" else None

            view = await eventually(active, timeout=120, interval=0.5, what=f"{enrollment.enrollment_id} active")
            assert view["balance"] == "0.00", view

    for enrollment, payment in zip(enrollments, payments, strict=True):
        applied = await records_for("coverage.events", enrollment.enrollment_id, "coverage.PaymentApplied.v1")
        distinct = {headers_of(r)["ce_id"] for r in applied}
        assert len(distinct) == 1, f"{payment['payment_id']} applied {len(distinct)} times"
        assert body_of(applied[0])["payment_id"] == payment["payment_id"]
        activated = await records_for("coverage.events", enrollment.enrollment_id, "coverage.CoverageActivated.v1")
        assert len({headers_of(r)["ce_id"] for r in activated}) == 1

    # Each member sees one confirmation: a re-send after a kill carries the same Message-ID, which mail
    # clients show once; the count of distinct confirmations must be exactly one.
    async def confirmations_delivered() -> Counter[str] | None:
        counts = Counter(
            {
                e.member_id: _distinct_message_ids(mail_for(e.member.email or ""), "Payment received")
                for e in enrollments
            }
        )
        return counts if all(n >= 1 for n in counts.values()) else None

    counts = await eventually(confirmations_delivered, timeout=120, interval=1.0, what="every confirmation")
    assert set(counts.values()) == {1}, counts
    # And the auditor, reading every database and topic, finds no breach anywhere.
    premiums("wait-idle")
    print(f"fault '{fault}': {len(payments)} payments, audit:\n{premiums('audit')}")
