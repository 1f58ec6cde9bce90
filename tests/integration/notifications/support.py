"""Builds the `Incoming` records a consumer would hand the handlers, and a member the service knows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord
from premiums_common.consumer import Incoming
from premiums_contracts import Envelope
from premiums_contracts.events import EnrollmentSubmitted, Event, MemberContact, PaymentSubmitted
from premiums_notifications.app import HANDLERS


def incoming(event: Event, key: str, envelope: Envelope | None = None) -> Incoming:
    envelope = envelope or Envelope(type=event.ce_type(), source="/premiums/test", subject=key)
    record: Any = ConsumerRecord(event.topic, 0, 0, 0, 0, key.encode(), b"", None, 0, 0, [])
    return Incoming(envelope, event, event.topic, 0, 0, key, record)


def enrollment(language: str = "en", *, email: str | None = "ana@example.org") -> EnrollmentSubmitted:
    member_id = f"{random.randrange(10**11, 10**12)}"
    return EnrollmentSubmitted(
        enrollment_id=f"RefID{random.randrange(10**9, 10**10)}",
        member_id=member_id,
        billing_account=f"7{random.randrange(10**7, 10**8)}",
        product="health",
        plan_id="MA-CC-2B-001",
        plan_name="ConnectorCare Plan Type 2B",
        coverage_start=date(2027, 2, 1),
        coverage_end=date(2027, 12, 31),
        monthly_premium=Decimal("312.40"),
        aptc_amount=Decimal("420.00"),
        subsidy="connectorcare",
        member=MemberContact(
            first_name="Ana",
            last_name="Rivera",
            date_of_birth=date(1988, 4, 2),
            email=email,
            phone="617-555-0134",
            language=language,  # type: ignore[arg-type]
            zip="02114",
        ),
    )


def payment(
    member_id: str,
    enrollment_id: str,
    payment_id: str,
    month: str,
    *,
    confirmation: str = "7KQ2",
    last4: str = "4321",
    received_at: datetime = datetime(2027, 1, 5, tzinfo=UTC),
) -> PaymentSubmitted:
    """A $312.40 portal payment for `month`, as payments publishes it."""
    return PaymentSubmitted(
        payment_id=payment_id,
        confirmation_number=confirmation,
        enrollment_id=enrollment_id,
        member_id=member_id,
        amount=Decimal("312.40"),
        channel="portal",
        method="ach_debit",
        account_last4=last4,
        received_at=received_at,
        business_date=received_at.date(),
        coverage_month=month,
    )


async def handle(pool: asyncpg.Pool, event: Event, key: str, envelope: Envelope | None = None) -> None:
    """Run the service's handler for `event` in its own transaction, as the consumer does."""
    async with pool.acquire() as con, con.transaction():
        await HANDLERS[type(event)](con, incoming(event, key, envelope))


async def known_member(pool: asyncpg.Pool, language: str = "en") -> EnrollmentSubmitted:
    e = enrollment(language)
    await handle(pool, e, e.enrollment_id)
    return e


async def notices_of(pool: asyncpg.Pool, member_id: str) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            """
            SELECT kind, channel, dedupe_key, status, facts FROM notifications
            WHERE member_id = $1 ORDER BY created_at, channel
            """,
            member_id,
        )
    )
