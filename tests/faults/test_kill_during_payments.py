"""Nothing lost, nothing twice: kill -9 services while members pay (ARCHITECTURE §6; the short fault run).

Enrollments are billed, members pay through the portal, and in the middle coverage and notifications
are killed with SIGKILL (no drain, no commit) and started again. Afterwards every payment is applied
exactly once, every enrollment is active with nothing owed, and each member saw one confirmation.
"""

from __future__ import annotations

import asyncio
import random
import signal
import uuid
from collections import Counter
from email.message import Message

import httpx
import pytest
from premiums_cli import stack
from premiums_cli.demo import first_of_month_after_next, mail_for, new_enrollment, submit_enrollment
from premiums_cli.token import token_for

from tests.e2e.support import COVERAGE, PAYMENTS, body_of, business_date, headers_of, premiums, records_for
from tests.polling import eventually

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("system"), pytest.mark.timeout(600)]

MEMBERS = 40


async def _vault_and_pay(http: httpx.AsyncClient, enrollment_id: str, member_id: str) -> dict:
    auth = {"Authorization": f"Bearer {token_for(member_id, 'member')}"}

    async def billed() -> bool:
        probe = {
            "enrollment_id": enrollment_id,
            "amount": "1.00",
            "payment_method": {
                "type": "bank_account",
                "routing_number": "011000015",
                "account_number": "000555000111",
                "account_type": "checking",
                "holder_name": "Fault Test",
            },
        }
        return (await http.post(f"{PAYMENTS}/v1/payments/preview", headers=auth, json=probe)).status_code == 200

    await eventually(billed, timeout=120, interval=0.5, what=f"payments to learn {enrollment_id}")
    account = await http.post(
        f"{PAYMENTS}/v1/bank-accounts",
        headers=auth,
        json={
            "routing_number": "011000015",
            "account_number": "000555000111",
            "account_type": "checking",
            "holder_name": "Fault Test",
        },
    )
    order = {
        "enrollment_id": enrollment_id,
        "amount": "250.00",
        "payment_method": {"type": "bank_account", "instrument_token": account.json()["instrument_token"]},
    }
    key = str(uuid.uuid4())
    for _ in range(20):  # a member retries with the same Idempotency-Key until the portal answers
        try:
            response = await http.post(f"{PAYMENTS}/v1/payments", headers={**auth, "Idempotency-Key": key}, json=order)
            if response.status_code == 201:
                return response.json()  # type: ignore[no-any-return]
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"payment for {enrollment_id} never accepted")


def _distinct_message_ids(messages: list[Message], marker: str) -> int:
    return len({m["Message-ID"] for m in messages if marker in (m["Subject"] or "")})


async def test_kill_9_of_coverage_and_notifications_while_members_pay_loses_and_doubles_nothing() -> None:
    start = first_of_month_after_next(business_date())
    enrollments = [new_enrollment(start, premium="250.00") for _ in range(MEMBERS)]
    for enrollment in enrollments:
        await submit_enrollment(enrollment)

    async def chaos() -> None:
        await asyncio.sleep(random.uniform(0.5, 2.0))
        for victim in ("coverage", "notifications"):
            stack.stop_service(victim, signal.SIGKILL)
        await asyncio.sleep(1.0)
        for victim in ("coverage", "notifications"):
            await asyncio.to_thread(stack.start_service, victim)

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
    premiums("audit")
