"""Notices end to end against the real SMTP sink (issue 6). The payment confirmation (N4) and the coverage
activation (N2) are proven by tests/e2e/test_first_payment.py and not repeated here.

- N6 in Spanish (D14): coverage's `AccountDelinquent` published on coverage.events with CloudEvents headers;
- N5 (D13): binder reminders 15/5/1 days before the due date, driven by the business clock, that stop once
  the member pays.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from email.message import Message
from pathlib import Path

import httpx
import pytest
from premiums_cli.demo import mail_for, new_enrollment, submit_enrollment
from premiums_cli.kafka_io import producer, publish
from premiums_cli.stack.environment import local_environment
from premiums_cli.token import token_for
from premiums_common.outbox import Outgoing, envelope_for
from premiums_contracts.events import AccountDelinquent
from premiums_notifications.domain.reminders import reminder_dates

from tests.e2e.support import NOTIFICATIONS, PAYMENTS, business_date, mails, premiums, text_of
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]


def month_after(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def binder_with_two_reminders_ahead(today: date) -> tuple[date, list[date]]:
    """The nearest coverage start whose binder (due the 23rd before it) still has two reminder days ahead."""
    start = month_after(today)
    while True:
        due = (start - timedelta(days=1)).replace(day=23)
        ahead = [d for d in reminder_dates(due, binder=True) if d > today]
        if len(ahead) >= 2:
            return start, ahead
        start = month_after(start)


def subject(message: Message) -> str:
    """The subject unfolded: a long one is folded over two header lines."""
    return " ".join(str(message["Subject"]).split())


def subjects(address: str, prefix: str) -> list[str]:
    return [subject(m) for m in mail_for(address) if subject(m).startswith(prefix)]


async def test_n6_a_past_due_warning_reaches_a_spanish_speaking_member_in_spanish() -> None:
    today = business_date()
    enrollment = new_enrollment(month_after(month_after(today)), premium="312.40", language="es")
    email = enrollment.member.email
    assert email
    await submit_enrollment(enrollment)
    binder_bill = (await mails(email, at_least=1))[0]
    assert subject(binder_bill).startswith("Su primera factura de prima")

    pay_by = today + timedelta(days=20)
    warning = AccountDelinquent(
        enrollment_id=enrollment.enrollment_id,
        member_id=enrollment.member_id,
        first_unpaid_month=enrollment.coverage_start.strftime("%Y-%m"),
        amount_past_due=Decimal("624.80"),
        pay_by=pay_by,
        notice="past_due_warning",
    )
    async with producer() as client:
        envelope = envelope_for(warning, source="/premiums/coverage", key=enrollment.enrollment_id)
        await publish(client, [Outgoing(warning, envelope)])

    async def warned() -> list[Message]:
        return [m for m in mail_for(email) if subject(m).startswith("Aviso de pago vencido")]

    found = await eventually(warned, timeout=60, interval=0.25, what="the Spanish past-due warning")
    assert len(found) == 1
    text = " ".join(text_of(found[0]).split())
    assert "$624.80" in subject(found[0]) and "Hola Ana:" in text
    assert f"{pay_by.day} de " in text and "1-877-623-6765 (TTY 711)" in text and "CÓMO PAGAR" in text
    html = next(p for p in found[0].walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert '<html lang="es">' in html and "<table" in html and "<pre" not in html

    auth = {"Authorization": f"Bearer {token_for(enrollment.member_id, 'member')}"}
    async with httpx.AsyncClient(timeout=30) as http:
        log = (await http.get(f"{NOTIFICATIONS}/v1/members/{enrollment.member_id}/notifications", headers=auth)).json()
    n6 = [n for n in log if n["kind"] == "N6"]
    assert len(n6) == 1 and n6[0]["language"] == "es" and n6[0]["channel"] == "email"
    assert n6[0]["triggered_by"] == envelope.id and n6[0]["provider_response"]


async def test_d13_binder_reminders_stop_once_the_member_pays_while_an_unpaid_member_keeps_getting_them() -> None:
    today = business_date()
    start, ahead = binder_with_two_reminders_ahead(today)
    payer, other = new_enrollment(start), new_enrollment(start)
    for enrollment in (payer, other):
        await submit_enrollment(enrollment)
        await mails(enrollment.member.email or "", at_least=1)  # N1: notifications knows the bill

    premiums("clock", "advance", "--to", ahead[0].isoformat(), "--wait")

    async def first_reminders() -> bool:
        return all(len(subjects(e.member.email or "", "Reminder:")) == 1 for e in (payer, other))

    await eventually(first_reminders, timeout=60, interval=0.25, what="the first binder reminder of both members")

    auth = {"Authorization": f"Bearer {token_for(payer.member_id, 'member')}"}
    order = {
        "enrollment_id": payer.enrollment_id,
        "amount": "312.40",
        "payment_method": {
            "type": "bank_account",
            "routing_number": "011000015",
            "account_number": "000987654321",
            "account_type": "checking",
            "holder_name": "Ana Rivera",
        },
    }
    async with httpx.AsyncClient(timeout=30) as http:

        async def paid() -> dict | None:
            response = await http.post(
                f"{PAYMENTS}/v1/payments", headers={**auth, "Idempotency-Key": str(uuid.uuid4())}, json=order
            )
            return response.json() if response.status_code == 201 else None

        payment = await eventually(paid, timeout=60, interval=0.5, what="the binder payment")

    async def confirmed() -> bool:
        return bool(subjects(payer.member.email or "", "Payment received"))

    await eventually(confirmed, timeout=60, interval=0.25, what="the payment confirmation")

    premiums("clock", "advance", "--to", ahead[-1].isoformat(), "--wait")

    async def later_reminders() -> bool:
        return len(subjects(other.member.email or "", "Reminder:")) == len(ahead)

    await eventually(later_reminders, timeout=60, interval=0.25, what="every later reminder of the unpaid member")
    reminders = subjects(payer.member.email or "", "Reminder:")
    assert len(reminders) == 1, f"no reminder after paying {payment['confirmation_number']}: {reminders}"
    due = (start - timedelta(days=1)).replace(day=23)
    texts = [
        " ".join(text_of(m).split()) for m in mail_for(other.member.email or "") if subject(m).startswith("Reminder:")
    ]
    for day in ahead:
        days = (due - day).days
        assert sum(f"It is due in {days} day" in t for t in texts) == 1, (days, texts)


async def test_d14_preferences_a_member_chooses_spanish_sms_and_paper_and_legal_notices_still_go_out() -> None:
    today = business_date()
    enrollment = new_enrollment(month_after(month_after(today)), language="en")
    member = enrollment.member_id
    await submit_enrollment(enrollment)
    await mails(enrollment.member.email or "", at_least=1)
    me = {"Authorization": f"Bearer {token_for(member, 'member')}"}
    staff = {"Authorization": f"Bearer {token_for('staff-0042', 'staff')}"}
    stranger = {"Authorization": f"Bearer {token_for('999999999999', 'member')}"}
    url = f"{NOTIFICATIONS}/v1/members/{member}/preferences"
    async with httpx.AsyncClient(timeout=30) as http:
        defaults = (await http.get(url, headers=me)).json()
        assert defaults["channels"] == ["email"] and defaults["language"] == "en" and defaults["paperless"] is True
        wanted = {"language": "es", "channels": ["sms"], "paperless": False, "reminders_opt_out": True}
        assert (await http.put(url, headers=stranger, json=wanted)).status_code == 403
        card = await http.put(url, headers=me, json={**wanted, "channels": ["fax"]})
        assert card.status_code == 422
        saved = await http.put(url, headers=me, json=wanted)
        assert saved.status_code == 200, saved.text
        assert {k: saved.json()[k] for k in wanted} == wanted
        assert saved.json()["always_sent"] == ["N6", "N7", "N8", "N10", "N12", "N13", "N14"]
        assert (await http.get(url, headers=staff)).json()["channels"] == ["sms"]

    warning = AccountDelinquent(
        enrollment_id=enrollment.enrollment_id,
        member_id=member,
        first_unpaid_month=enrollment.coverage_start.strftime("%Y-%m"),
        amount_past_due=Decimal("312.40"),
        pay_by=today + timedelta(days=20),
        notice="past_due_warning",
    )
    async with producer() as client:
        await publish(
            client,
            [Outgoing(warning, envelope_for(warning, source="/premiums/coverage", key=enrollment.enrollment_id))],
        )

    async with httpx.AsyncClient(timeout=30) as http:

        async def delivered() -> list[dict] | None:
            response = await http.get(f"{NOTIFICATIONS}/v1/members/{member}/notifications", headers=me)
            n6 = [n for n in response.json() if n["kind"] == "N6"]
            return n6 if len(n6) == 2 and all(n["status"] == "sent" for n in n6) else None

        n6 = await eventually(delivered, timeout=60, interval=0.25, what="the warning by SMS and on paper")
    assert sorted(n["channel"] for n in n6) == ["print", "sms"] and {n["language"] for n in n6} == {"es"}
    sms_log = Path(local_environment()["PREMIUMS_MAILDIR"]).parent / "sms" / f"{member}.log"
    assert "Aviso de pago vencido" in sms_log.read_text()
    printed = next(n for n in n6 if n["channel"] == "print")
    page = Path(local_environment()["PREMIUMS_MAILDIR"]).parent / "print" / f"{printed['notification_id']}.html"
    assert '<html lang="es">' in page.read_text()
