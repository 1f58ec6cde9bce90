"""Exactly once (issue 6): every event of a scenario is delivered three times (the same records, the same
ce_id) with the notifications service restarted in the middle, and each notice is in the Maildir once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from email.message import Message

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from premiums_cli.demo import first_of_month_after_next, mail_for, new_enrollment, submit_enrollment
from premiums_cli.kafka_io import producer, publish
from premiums_cli.token import token_for
from premiums_common.outbox import Outgoing, envelope_for
from premiums_contracts.events import AccountDelinquent, AutopayEnrolled, BankAccountChanged, Event

from tests.e2e.support import NOTIFICATIONS, business_date, mails, premiums, records_for
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

TOPICS = ("enrollment.events", "coverage.events", "payments.events", "autopay.events")
SOURCES = {
    "coverage.events": "/premiums/coverage",
    "payments.events": "/premiums/payments",
    "autopay.events": "/premiums/autopay",
}


def subject(message: Message) -> str:
    return " ".join(str(message["Subject"]).split())


async def _as_its_producer_would(event: Event, key: str) -> None:
    async with producer() as client:
        await publish(client, [Outgoing(event, envelope_for(event, source=SOURCES[event.topic], key=key))])


async def _redeliver(records: list[ConsumerRecord]) -> None:
    async with producer() as client:
        for r in records:
            await client.send_and_wait(r.topic, value=r.value, key=r.key, headers=list(r.headers))


async def test_every_event_delivered_three_times_across_a_restart_gives_each_notice_once() -> None:
    today = business_date()
    start = first_of_month_after_next(today)
    enrollment = new_enrollment(start, premium="312.40")
    email, key = enrollment.member.email or "", enrollment.enrollment_id
    await submit_enrollment(enrollment)
    await mails(email, at_least=1)  # N1: notifications knows the member and the enrollment

    await _as_its_producer_would(
        AutopayEnrolled(
            mandate_id=f"mdt-{key}",
            enrollment_id=key,
            member_id=enrollment.member_id,
            account_last4="4321",
            draft_day=22,
        ),
        key,
    )
    await _as_its_producer_would(
        AccountDelinquent(
            enrollment_id=key,
            member_id=enrollment.member_id,
            first_unpaid_month=start.strftime("%Y-%m"),
            amount_past_due=Decimal("312.40"),
            pay_by=today + timedelta(days=20),
            notice="past_due_warning",
        ),
        key,
    )
    await _as_its_producer_would(
        BankAccountChanged(
            instrument_token=f"tok-{key}",
            enrollment_id=key,
            change_code="C01",
            account_last4="5678",
            account_type="checking",
        ),
        key,
    )
    first = await mails(email, at_least=4)
    expected = Counter(subject(m) for m in first)
    assert len(expected) == 4 and set(expected.values()) == {1}

    scenario = [r for topic in TOPICS for r in await records_for(topic, key)]
    assert len(scenario) >= 5, [r.topic for r in scenario]
    await _redeliver(scenario)
    premiums("stack", "restart", "notifications")
    await _redeliver(scenario)
    premiums("wait-idle")

    auth = {"Authorization": f"Bearer {token_for(enrollment.member_id, 'member')}"}
    async with httpx.AsyncClient(timeout=30) as http:

        async def all_sent() -> list[dict] | None:
            response = await http.get(f"{NOTIFICATIONS}/v1/members/{enrollment.member_id}/notifications", headers=auth)
            log = response.json() if response.status_code == 200 else []
            return log if log and all(n["status"] == "sent" for n in log) else None

        log = await eventually(all_sent, timeout=60, interval=0.5, what="every notice sent")
    assert sorted(n["kind"] for n in log) == ["N1", "N10", "N15", "N6"]
    assert Counter(subject(m) for m in mail_for(email)) == expected
