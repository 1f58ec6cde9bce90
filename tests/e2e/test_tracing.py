"""One OpenTelemetry trace follows a payment from the portal request through every Kafka hop to the email."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from pathlib import Path

import httpx
import pytest
from premiums_cli.demo import first_of_month_after_next, new_enrollment, submit_enrollment
from premiums_cli.token import token_for

from tests.e2e.support import COVERAGE, PAYMENTS, business_date, premiums
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]


def spans_of(trace_id: str) -> list[dict]:
    folder = Path(os.environ["PREMIUMS_TRACE_DIR"])
    spans = []
    for path in folder.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            span = json.loads(line)
            if span["trace_id"] == trace_id:
                spans.append(span)
    return spans


async def test_a_portal_payment_is_one_trace_across_all_four_services() -> None:
    enrollment = new_enrollment(first_of_month_after_next(business_date()))
    await submit_enrollment(enrollment)
    auth = {"Authorization": f"Bearer {token_for(enrollment.member_id, 'member')}"}
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    async with httpx.AsyncClient(timeout=30) as http:

        async def enrolled() -> bool:
            url = f"{COVERAGE}/v1/enrollments/{enrollment.enrollment_id}"
            return (await http.get(url, headers=auth)).status_code == 200

        await eventually(enrolled, timeout=60, interval=0.25, what="the enrollment")
        account = {
            "routing_number": "011000015",
            "account_number": "000111222333",
            "account_type": "savings",
            "holder_name": "Ana Rivera",
        }
        order = {
            "enrollment_id": enrollment.enrollment_id,
            "amount": "312.40",
            "payment_method": {"type": "bank_account", **account},
        }

        async def paid() -> dict | None:
            headers = {
                **auth,
                "Idempotency-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, trace_id)),
                "traceparent": traceparent,
            }
            response = await http.post(f"{PAYMENTS}/v1/payments", headers=headers, json=order)
            return response.json() if response.status_code == 201 else None

        payment = await eventually(paid, timeout=60, interval=0.5, what="the payment")
    premiums("clock", "advance", "--to", payment["settles_on"], "--wait")

    def services() -> set[str]:
        return {span["service"] for span in spans_of(trace_id)}

    async def all_four() -> set[str] | None:
        found = services()
        return found if found >= {"payments", "coverage", "notifications", "autopay"} else None

    found = await eventually(all_four, timeout=30, interval=0.5, what=f"spans of trace {trace_id}")
    spans = spans_of(trace_id)
    by_id = {s["span_id"]: s for s in spans}
    server = [s for s in spans if s["service"] == "payments" and s["kind"] == "SERVER"]
    assert server, "the portal request is the root of the trace"
    consumers = [s for s in spans if s["kind"] == "CONSUMER"]
    assert consumers and all(s["parent_id"] in by_id or s["parent_id"] for s in consumers)
    assert {s["service"] for s in consumers} >= {"coverage", "notifications", "autopay"}, found
    names = {s["name"] for s in spans}
    # ... through the clearing and the activation, to the emails leaving notifications.
    assert "coverage handle payments.PaymentCleared.v1" in names, names
    assert "notifications handle coverage.CoverageActivated.v1" in names, names

    async def emailed() -> set[str] | None:
        delivered = {s["name"] for s in spans_of(trace_id) if s["name"].startswith("deliver ")}
        return delivered if {"deliver N4 by email", "deliver N2 by email"} <= delivered else None

    await eventually(emailed, timeout=30, interval=0.5, what="the email deliveries in the trace")
