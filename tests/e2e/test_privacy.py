"""No full bank account number leaves the vault: not in any Kafka record, log line, email, SMS, print file or
trace of a run that paid through every channel (ARCHITECTURE §2; issue: payments)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from premiums_cli.kafka_io import read_all
from premiums_cli.stack import project_root
from premiums_contracts.topics import all_topics_with_dead_letters

from tests.e2e.support import PAYMENTS, premiums
from tests.e2e.test_payments_channels import bank, billed_enrollment, key, member_auth, portal_payment, staff_auth

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

# Distinctive numbers (checksum-free account numbers may be anything of 4 to 17 digits).
PORTAL, GUEST, PHONE, FAILED = "48151623420001", "27182818284500", "31415926535800", "16180339887400"


async def test_full_account_numbers_appear_in_no_record_log_notice_or_trace() -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        portal = await billed_enrollment(http)
        await portal_payment(http, portal, PORTAL)
        guest = await billed_enrollment(http)
        paid = await http.post(
            f"{PAYMENTS}/v1/guest/payments",
            headers=key(),
            json={
                "member_id": guest.member_id,
                "date_of_birth": guest.member.date_of_birth.isoformat(),
                "zip": guest.member.zip,
                "billing_account": guest.billing_account,
                "amount": "312.40",
                "payment_method": bank(GUEST),
            },
        )
        assert paid.status_code == 201, paid.text
        phoned = await billed_enrollment(http)
        phone = await http.post(
            f"{PAYMENTS}/v1/staff/payments",
            headers={**staff_auth(), **key()},
            json={
                "channel": "phone",
                "enrollment_id": phoned.enrollment_id,
                "amount": "312.40",
                "payment_method": bank(PHONE),
                "authorization": {
                    "authorized_on": premiums("clock", "show").strip(),
                    "amount": "312.40",
                    "consumer_name": "Ana Rivera",
                    "single_entry": True,
                    "recording_reference": "CALL-PRIV-1",
                },
            },
        )
        assert phone.status_code == 201, phone.text
        # A refused request must not echo the number either.
        refused = await http.post(
            f"{PAYMENTS}/v1/payments",
            headers={**member_auth(portal), **key()},
            json={"enrollment_id": portal.enrollment_id, "amount": "-3", "payment_method": bank(FAILED)},
        )
        assert refused.status_code == 422 and FAILED not in refused.text
    premiums("wait-idle")

    secrets = (PORTAL, GUEST, PHONE, FAILED)
    leaks = []
    for topic in all_topics_with_dead_letters():
        for record in await read_all(topic.name):
            raw = (record.value or b"") + b"".join(v or b"" for _, v in record.headers or ())
            leaks += [f"{topic.name}@{record.partition}:{record.offset}" for s in secrets if s.encode() in raw]
    local = project_root() / ".local"
    folders = [local / "run", local / "mail", local / "sms", local / "print", Path(os.environ["PREMIUMS_TRACE_DIR"])]
    for folder in folders:
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file():
                content = path.read_bytes()
                leaks += [str(path.relative_to(local)) for s in secrets if s.encode() in content]
    assert leaks == []
