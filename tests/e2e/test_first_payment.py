"""The first flow, end to end, through public interfaces only (issue: foundation).

EnrollmentSubmitted on enrollment.events → binder invoice → a portal payment → the sandbox bank clears it
when the business date moves on → CoverageActivated → confirmation and welcome emails in the Maildir.
"""

from __future__ import annotations

import calendar
import json
import shutil
import subprocess
import uuid
from datetime import date

import httpx
import pytest
from premiums_cli.demo import first_of_month_after_next, new_enrollment, submit_enrollment
from premiums_cli.token import token_for

from tests.e2e.support import (
    COVERAGE,
    NOTIFICATIONS,
    PAYMENTS,
    body_of,
    business_date,
    headers_of,
    mails,
    one_record,
    premiums,
    text_of,
)
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

ACCOUNT_NUMBER = "000987654321"


async def test_binder_paid_through_the_portal_activates_coverage_and_emails_the_member() -> None:
    today = business_date()
    enrollment = new_enrollment(first_of_month_after_next(today), premium="312.40")
    email = enrollment.member.email
    assert email
    auth = {"Authorization": f"Bearer {token_for(enrollment.member_id, 'member')}"}
    await submit_enrollment(enrollment)

    # R1.9/D2: the enrollment waits for its binder, due the 23rd of the month before the start.
    invoice = await one_record("coverage.events", enrollment.enrollment_id, "coverage.InvoiceIssued.v1")
    assert body_of(invoice)["binder"] is True
    assert body_of(invoice)["due_date"] == date(today.year + (today.month == 12), today.month % 12 + 1, 23).isoformat()
    assert body_of(invoice)["total_due"] == "312.40"

    async with httpx.AsyncClient(timeout=30) as http:

        async def pending() -> dict | None:
            response = await http.get(f"{COVERAGE}/v1/enrollments/{enrollment.enrollment_id}", headers=auth)
            return response.json() if response.status_code == 200 else None

        enrolled = await eventually(pending, timeout=60, interval=0.25, what="the enrollment")
        assert enrolled["status"] == "pending_binder"

        async def payable() -> bool:
            body = {
                "enrollment_id": enrollment.enrollment_id,
                "amount": "1.00",
                "payment_method": {
                    "type": "bank_account",
                    "routing_number": "011000015",
                    "account_number": ACCOUNT_NUMBER,
                    "account_type": "checking",
                    "holder_name": "Ana Rivera",
                },
            }
            response = await http.post(f"{PAYMENTS}/v1/payments/preview", headers=auth, json=body)
            return response.status_code == 200

        await eventually(payable, timeout=60, interval=0.25, what="payments to learn the invoice")

        # D16: a card is refused with a plain message naming what is accepted, and nothing is stored.
        card = await http.post(
            f"{PAYMENTS}/v1/payments",
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
            json={
                "enrollment_id": enrollment.enrollment_id,
                "amount": "312.40",
                "payment_method": {"type": "credit_card", "number": "4111111111111111"},
            },
        )
        assert card.status_code == 422
        assert card.headers["content-type"].startswith("application/problem+json")
        assert "checking or savings" in card.json()["detail"]

        vaulted = await http.post(
            f"{PAYMENTS}/v1/bank-accounts",
            headers=auth,
            json={
                "routing_number": "011000015",
                "account_number": ACCOUNT_NUMBER,
                "account_type": "checking",
                "holder_name": "Ana Rivera",
            },
        )
        assert vaulted.status_code == 201, vaulted.text
        assert vaulted.json()["account_last4"] == "4321"
        assert ACCOUNT_NUMBER not in vaulted.text
        method = {"type": "bank_account", "instrument_token": vaulted.json()["instrument_token"]}
        order = {"enrollment_id": enrollment.enrollment_id, "amount": "312.40", "payment_method": method}

        preview = (await http.post(f"{PAYMENTS}/v1/payments/preview", headers=auth, json=order)).json()
        assert preview["on_time"] is True and preview["account"] == "****4321"
        assert preview["coverage_month"] == enrollment.coverage_start.strftime("%Y-%m")

        key = str(uuid.uuid4())
        paid = await http.post(f"{PAYMENTS}/v1/payments", headers={**auth, "Idempotency-Key": key}, json=order)
        assert paid.status_code == 201, paid.text
        payment = paid.json()
        again = await http.post(f"{PAYMENTS}/v1/payments", headers={**auth, "Idempotency-Key": key}, json=order)
        assert again.status_code == 201 and again.json() == payment, "the same key returns the first response"
        other = await http.post(
            f"{PAYMENTS}/v1/payments", headers={**auth, "Idempotency-Key": key}, json={**order, "amount": "10.00"}
        )
        assert other.status_code == 422, "the same key with another body is refused"

        fetched = (await http.get(f"{PAYMENTS}/v1/payments/{payment['payment_id']}", headers=auth)).json()
        assert fetched["confirmation_number"] == payment["confirmation_number"]
        stranger = {"Authorization": f"Bearer {token_for('999999999999', 'member')}"}
        hidden = await http.get(f"{PAYMENTS}/v1/payments/{payment['payment_id']}", headers=stranger)
        assert hidden.status_code == 404, "members see only their own payments"

    submitted = await one_record("payments.events", enrollment.enrollment_id, "payments.PaymentSubmitted.v1")
    headers = headers_of(submitted)
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_source"] == "/premiums/payments"
    assert headers["ce_subject"] == enrollment.enrollment_id
    assert headers["content-type"] == "application/json"
    assert uuid.UUID(headers["ce_id"]) and headers["correlation_id"]
    assert date.fromisoformat(headers["ce_time"][:10])
    event = body_of(submitted)
    assert event["amount"] == "312.40" and event["account_last4"] == "4321"
    assert event["confirmation_number"] == payment["confirmation_number"]
    assert ACCOUNT_NUMBER not in submitted.value.decode() + json.dumps(headers)

    # ARCHITECTURE §5: the sandbox clears the debit on the next banking day.
    premiums("clock", "advance", "--to", payment["settles_on"], "--wait")
    cleared = await one_record("payments.events", enrollment.enrollment_id, "payments.PaymentCleared.v1")
    activated = await one_record("coverage.events", enrollment.enrollment_id, "coverage.CoverageActivated.v1")
    assert headers_of(cleared)["correlation_id"] == headers["correlation_id"]
    assert headers_of(activated)["correlation_id"] == headers["correlation_id"], "one business flow, one id"
    assert headers_of(activated)["causation_id"] == headers_of(cleared)["ce_id"]
    assert body_of(activated)["payment_id"] == payment["payment_id"]
    last_day = calendar.monthrange(enrollment.coverage_start.year, enrollment.coverage_start.month)[1]
    assert body_of(activated)["paid_through"] == enrollment.coverage_start.replace(day=last_day).isoformat()

    async with httpx.AsyncClient(timeout=30) as http:
        view = (await http.get(f"{COVERAGE}/v1/enrollments/{enrollment.enrollment_id}", headers=auth)).json()
        assert view["status"] == "active"
        assert view["coverage_start"] == enrollment.coverage_start.isoformat()
        assert view["balance"] == "0.00"

    # N4 once and N2 once (plus the N1 binder bill), whatever was redelivered on the way.
    inbox = await mails(email, at_least=3)
    subjects = [m["Subject"] for m in inbox]
    confirmations = [m for m in inbox if payment["confirmation_number"] in m["Subject"]]
    assert len(confirmations) == 1, subjects
    assert "$312.40" in text_of(confirmations[0]) and "****4321" in text_of(confirmations[0])
    assert sum("coverage is active" in s for s in subjects) == 1, subjects
    assert all(ACCOUNT_NUMBER not in m.as_string() for m in inbox)

    async with httpx.AsyncClient(timeout=30) as http:
        sent = (await http.get(f"{NOTIFICATIONS}/v1/members/{enrollment.member_id}/notifications", headers=auth)).json()
    assert sorted(n["kind"] for n in sent if n["status"] == "sent") == ["N1", "N2", "N4"]


def test_a_third_party_kafka_client_reads_coverage_activated_with_cloudevents_headers() -> None:
    """kcat (librdkafka, from Debian) sees `coverage.CoverageActivated.v1` with `ce_*` headers and a JSON body."""
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by `make bootstrap` (Debian package kcat)"
    premiums("demo")
    result = subprocess.run(
        [
            kcat,
            "-b",
            "127.0.0.1:9092",
            "-C",
            "-t",
            "coverage.events",
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k\t%h\t%s\n",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    activations = []
    for line in result.stdout.splitlines():
        key, headers, body = line.split("\t", 2)
        pairs = dict(h.split("=", 1) for h in headers.split(","))
        if pairs.get("ce_type") == "coverage.CoverageActivated.v1":
            activations.append((key, pairs, json.loads(body)))
    assert activations, "no CoverageActivated on coverage.events"
    key, pairs, body = activations[-1]
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"} <= set(pairs)
    assert pairs["ce_source"] == "/premiums/coverage" and pairs["ce_subject"] == key == body["enrollment_id"]
    assert body["coverage_start"] <= body["paid_through"]


def test_the_demo_story_reaches_its_end() -> None:
    """`make run` plays this story; it must get to the activated enrollment and the emails by itself."""
    output = premiums("demo")
    assert "status                 active" in output
    assert "emails for" in output
