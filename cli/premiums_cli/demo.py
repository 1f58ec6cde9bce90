"""`premiums demo`: the story of one member, told against the running system through its public interfaces.

A member enrolls (enrollment.events), gets a binder invoice, vaults a bank account and pays through the
portal, the business date moves on, the sandbox bank clears the debit, coverage activates, and the
confirmation and welcome emails land in the Maildir.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import random
import uuid
from datetime import date
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any, Literal

import httpx
from premiums_common.outbox import Outgoing
from premiums_contracts import Envelope
from premiums_contracts.events import EnrollmentSubmitted, MemberContact

from premiums_cli import clock, idle
from premiums_cli.kafka_io import producer, publish
from premiums_cli.stack import local_environment, project_root
from premiums_cli.token import token_for

PAYMENTS = "http://127.0.0.1:8001"
AUTOPAY = "http://127.0.0.1:8002"
COVERAGE = "http://127.0.0.1:8003"
NOTIFICATIONS = "http://127.0.0.1:8004"


_drawn: set[str] = set()


def _fresh(prefix: str, low: int, high: int) -> str:
    """A random identifier this process has not handed out yet. The bench draws 100,000 enrollments at once:
    plain draws from a 10-digit space repeat one about every other run (three did in one run), and a repeated
    Enrollment ID is, rightly, the same enrollment to every service."""
    while (identifier := f"{prefix}{random.randrange(low, high)}") in _drawn:
        pass
    _drawn.add(identifier)
    return identifier


def new_enrollment(
    start: date, *, premium: str = "312.40", language: Literal["en", "es"] = "en", email_address: str | None = None
) -> EnrollmentSubmitted:
    """A realistic enrollment with MAHC-style identifiers (D15): 12-digit member, 9-digit account from 7, RefID
    and 12 digits; each unique within this process (a new run against the same stack may, rarely, repeat one)."""
    member_id = _fresh("", 10**11, 10**12)
    return EnrollmentSubmitted(
        enrollment_id=_fresh("RefID", 10**11, 10**12),
        member_id=member_id,
        billing_account=_fresh("7", 10**7, 10**8),
        product="health",
        plan_id="MA-CC-2B-001",
        plan_name="ConnectorCare Plan Type 2B (Example Health)",
        coverage_start=start,
        coverage_end=date(start.year, 12, 31),
        monthly_premium=Decimal(premium),
        aptc_amount=Decimal("420.00"),
        subsidy="connectorcare",
        member=MemberContact(
            first_name="Ana",
            last_name="Rivera",
            date_of_birth=date(1988, 4, 2),
            email=email_address or f"member{member_id}@example.org",
            phone="617-555-0134",
            language=language,
            zip="02114",
        ),
    )


async def submit_enrollment(enrollment: EnrollmentSubmitted) -> Envelope:
    envelope = Envelope(type=enrollment.ce_type(), source="/premiums/demo", subject=enrollment.enrollment_id)
    async with producer() as client:
        await publish(client, [Outgoing(enrollment, envelope)])
    return envelope


_PARSED: dict[Path, Message] = {}  # a delivered Maildir file never changes: parse each one once


def mail_for(address: str, maildir: Path | None = None) -> list[Message]:
    folder = (maildir or Path(local_environment()["PREMIUMS_MAILDIR"])) / "new"
    found = []
    for path in sorted(folder.glob("*")) if folder.exists() else []:
        message = _PARSED.get(path)
        if message is None:
            message = _PARSED[path] = email.message_from_bytes(path.read_bytes())
        if address in (message.get("To") or ""):
            found.append(message)
    return found


def _step(text: str) -> None:
    print(f"\n▶ {text}")


def _show(label: str, value: Any) -> None:
    print(f"    {label:<22} {value}")


def first_of_month_after_next(today: date) -> date:
    month = today.month + 2
    return date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


async def story() -> int:
    today = await clock.current_date()
    if today is None:
        today = await clock.advance(days=0)
        await clock.set_date(today)
    start = first_of_month_after_next(today)
    enrollment = new_enrollment(start)
    member = token_for(enrollment.member_id, "member")
    auth = {"Authorization": f"Bearer {member}"}

    _step(
        f"Business date {today}. {enrollment.member.first_name} {enrollment.member.last_name} picks a plan "
        f"starting {start} (enrollment.events → EnrollmentSubmitted)"
    )
    _show("member", enrollment.member_id)
    _show("enrollment", enrollment.enrollment_id)
    _show("monthly premium", f"${enrollment.monthly_premium}")
    await submit_enrollment(enrollment)
    await idle.wait_idle()

    async with httpx.AsyncClient(timeout=30) as http:
        view = (await http.get(f"{COVERAGE}/v1/enrollments/{enrollment.enrollment_id}", headers=auth)).json()
        invoices = (
            await http.get(f"{COVERAGE}/v1/enrollments/{enrollment.enrollment_id}/invoices", headers=auth)
        ).json()
        _step("coverage records it pending its binder and issues the binder invoice (InvoiceIssued)")
        _show("status", view["status"])
        _show("binder due", invoices[0]["due_date"])
        _show("amount due", f"${invoices[0]['total_due']}")

        _step("A debit card is refused, naming what is accepted (D16)")
        card = await http.post(
            f"{PAYMENTS}/v1/payments",
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
            json={
                "enrollment_id": enrollment.enrollment_id,
                "amount": invoices[0]["total_due"],
                "payment_method": {"type": "debit_card", "number": "4111111111111111"},
            },
        )
        _show(f"HTTP {card.status_code}", card.json()["detail"])

        _step("The member saves a checking account and reviews the payment")
        account = (
            await http.post(
                f"{PAYMENTS}/v1/bank-accounts",
                headers=auth,
                json={
                    "routing_number": "011000015",
                    "account_number": "000123456789",
                    "account_type": "checking",
                    "holder_name": "Ana Rivera",
                },
            )
        ).json()
        _show("instrument token", account["instrument_token"])
        method = {"type": "bank_account", "instrument_token": account["instrument_token"]}
        body = {
            "enrollment_id": enrollment.enrollment_id,
            "amount": invoices[0]["total_due"],
            "payment_method": method,
        }
        preview = (await http.post(f"{PAYMENTS}/v1/payments/preview", headers=auth, json=body)).json()
        for key in ("amount", "coverage_month", "due_date", "on_time", "account"):
            _show(key, preview[key])

        _step("...and pays (POST /v1/payments → PaymentSubmitted)")
        paid = (
            await http.post(
                f"{PAYMENTS}/v1/payments", headers={**auth, "Idempotency-Key": str(uuid.uuid4())}, json=body
            )
        ).json()
        _show("confirmation number", paid["confirmation_number"])
        _show("settles on", paid["settles_on"])
        await idle.wait_idle()

        _step(f"The business date moves to {paid['settles_on']}: the sandbox bank clears the debit (PaymentCleared)")
        await clock.advance(to=date.fromisoformat(paid["settles_on"]))
        await idle.wait_idle()
        view = (await http.get(f"{COVERAGE}/v1/enrollments/{enrollment.enrollment_id}", headers=auth)).json()
        _step("coverage activates the enrollment (CoverageActivated)")
        _show("status", view["status"])
        _show("coverage start", view["coverage_start"])
        _show("paid through", view["paid_through"])

        notices = (
            await http.get(f"{NOTIFICATIONS}/v1/members/{enrollment.member_id}/notifications", headers=auth)
        ).json()
    _step("notifications emailed the member (SMTP → .local/mail)")
    for notice in notices:
        _show(f"{notice['kind']} {notice['status']}", notice["subject"])
    mails = mail_for(enrollment.member.email or "")
    maildir = Path(local_environment()["PREMIUMS_MAILDIR"]).relative_to(project_root())
    print(f"\n{len(mails)} emails for {enrollment.member.email} are in {maildir}/new")
    print(
        "Look around: OpenAPI at http://127.0.0.1:8001/docs (payments), :8002 (autopay), :8003 (coverage), "
        ":8004 (notifications); the AsyncAPI document is contracts/asyncapi.json."
    )
    return 0 if view["status"] == "active" and len(mails) >= 2 else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("demo", help="play the demo story against the running system")
    parser.set_defaults(func=lambda _: asyncio.run(story()))
