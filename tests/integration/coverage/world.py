"""A small coverage world for the integration tests: the real handlers, daily jobs and repository on a
real database, fed events and business dates the way the runtime feeds them (one transaction each)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from premiums_common.consumer import Incoming
from premiums_common.outbox import Outgoing
from premiums_common.service import Service, run_daily
from premiums_common.settings import Settings
from premiums_common.timezone import NEW_YORK
from premiums_contracts import Envelope, event_class
from premiums_contracts.events import (
    EnrollmentSubmitted,
    Event,
    MemberContact,
    PaymentCleared,
    PaymentReturned,
    PaymentSubmitted,
    PremiumChanged,
)
from premiums_coverage import repository as repo
from premiums_coverage.daily import DailyWork
from premiums_coverage.handlers import CoverageHandlers
from premiums_coverage.policy import CoveragePolicy


def settings() -> Settings:
    return Settings(
        service="coverage",
        kafka_bootstrap_servers="unused:9092",
        database_url="unused",
        http_host="127.0.0.1",
        http_port=0,
        clock_mode="simulated",
        jwt_secret="unused",
        data_key=None,
        smtp_host="127.0.0.1",
        smtp_port=1025,
        maildir=None,
        log_level="INFO",
    )


def enrollment(
    start: date, *, premium: str = "100.00", subsidy: str = "none", product: str = "health"
) -> EnrollmentSubmitted:
    member_id = f"{random.randrange(10**11, 10**12)}"
    return EnrollmentSubmitted(
        enrollment_id=f"RefID{random.randrange(10**9, 10**10)}",
        member_id=member_id,
        billing_account=f"7{random.randrange(10**7, 10**8)}",
        product=product,  # type: ignore[arg-type]
        plan_id="MA-TEST",
        plan_name="Test plan",
        coverage_start=start,
        coverage_end=date(start.year, 12, 31),
        monthly_premium=Decimal(premium),
        aptc_amount=Decimal("0.00") if subsidy == "none" else Decimal("300.00"),
        subsidy=subsidy,  # type: ignore[arg-type]
        member=MemberContact(first_name="Ana", last_name="Rivera", date_of_birth=date(1990, 1, 1), zip="02114"),
    )


def incoming(event: Event, key: str, topic: str = "it") -> Incoming:
    """The record a consumer hands a handler (no Kafka record behind it)."""
    envelope = Envelope(type=event.ce_type(), source="/it", subject=key)
    return Incoming(envelope, event, topic, 0, 0, key, None)  # type: ignore[arg-type]


def submitted(e: EnrollmentSubmitted, payment_id: str, amount: str, day: date) -> PaymentSubmitted:
    return PaymentSubmitted(
        payment_id=payment_id,
        confirmation_number="TEST",
        enrollment_id=e.enrollment_id,
        member_id=e.member_id,
        amount=Decimal(amount),
        channel="portal",
        method="ach_debit",
        account_last4="4321",
        received_at=datetime.combine(day, datetime.min.time(), tzinfo=NEW_YORK),
        business_date=day,
    )


def cleared(e: EnrollmentSubmitted, payment_id: str, amount: str, day: date) -> PaymentCleared:
    return PaymentCleared(payment_id=payment_id, enrollment_id=e.enrollment_id, amount=Decimal(amount), cleared_on=day)


class World:
    def __init__(self, pool: asyncpg.Pool, policy: CoveragePolicy | None = None) -> None:
        self.pool = pool
        self.service = Service(settings(), package="premiums_coverage", title="coverage", description="it")
        self.policy = policy or CoveragePolicy()
        self.handlers = CoverageHandlers(self.service, self.policy)
        self.daily = DailyWork(self.service, self.policy)
        self.today = date(2000, 1, 1)
        self.published: list[Event] = []
        self.days: dict[int, date] = {}

    async def _run(self, step: Any, *args: Any) -> list[Event]:
        async with self.pool.acquire() as con, con.transaction():
            before = await con.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
            out: list[Outgoing] = list(await step(con, *args) or [])
            events = [o.event for o in out] + await _written_to_outbox(con, after=before)
        self.published.extend(events)
        self.days.update({id(e): self.today for e in events})
        return events

    def sent_on(self, event: Event) -> date:
        """The business date on which the world published `event`."""
        return self.days[id(event)]

    async def handle(self, event: Event, handler: Any) -> list[Event]:
        return await self._run(handler, incoming(event, getattr(event, "enrollment_id", "k")))

    async def on(self, day: date, *, policy_jobs: bool = True) -> list[Event]:
        """The business date becomes `day`: the daily jobs run in the order the service runs them."""
        self.today = day
        self.service.clock.observe(day)
        events: list[Event] = []
        for job in (self.daily.monthly_bill, self.daily.late_binders, self.daily.delinquency):
            events += await self._run(run_daily, job, day)
        return events

    async def through(self, last: date) -> list[Event]:
        events: list[Event] = []
        day = self.today + timedelta(days=1)
        while day <= last:
            events += await self.on(day)
            day += timedelta(days=1)
        return events

    async def enroll(self, e: EnrollmentSubmitted) -> list[Event]:
        return await self.handle(e, self.handlers.enrollment_submitted)

    async def pay(self, e: EnrollmentSubmitted, amount: str, *, clear: bool = True) -> str:
        payment_id = f"P-{uuid.uuid4().hex[:10]}"
        await self.handle(submitted(e, payment_id, amount, self.today), self.handlers.payment_submitted)
        if clear:
            await self.handle(cleared(e, payment_id, amount, self.today), self.handlers.payment_cleared)
        return payment_id

    async def returned(self, e: EnrollmentSubmitted, payment_id: str, amount: str) -> list[Event]:
        event = PaymentReturned(
            payment_id=payment_id,
            enrollment_id=e.enrollment_id,
            amount=Decimal(amount),
            return_code="R01",
            return_reason="Insufficient funds",
            returned_on=self.today,
            retry_eligible=True,
        )
        return await self.handle(event, self.handlers.payment_returned)

    async def change_premium(
        self, e: EnrollmentSubmitted, effective_month: str, premium: str, aptc: str = "0.00"
    ) -> list[Event]:
        change = PremiumChanged(
            enrollment_id=e.enrollment_id,
            member_id=e.member_id,
            effective_month=effective_month,
            monthly_premium=Decimal(premium),
            aptc_amount=Decimal(aptc),
        )
        return await self.handle(change, self.handlers.premium_changed)

    async def row(self, e: EnrollmentSubmitted) -> Any:
        return await repo.enrollment(self.pool, e.enrollment_id)

    def of(self, e: EnrollmentSubmitted, kind: type[Event]) -> list[Any]:
        return [
            x for x in self.published if isinstance(x, kind) and getattr(x, "enrollment_id", None) == e.enrollment_id
        ]


async def _written_to_outbox(con: asyncpg.Connection, *, after: int) -> list[Event]:
    """Events a step put in the outbox itself (the bill day streams its invoices there), in order; taken out,
    as the relay would."""
    rows = await con.fetch("DELETE FROM outbox WHERE id > $1 RETURNING id, headers, payload", after)
    rows = sorted(rows, key=lambda r: r["id"])
    events: list[Event] = []
    for row in rows:
        envelope = Envelope.from_headers([(k, v.encode()) for k, v in json.loads(row["headers"])])
        model = event_class(envelope.type)
        assert model is not None, envelope.type
        events.append(model.model_validate_json(row["payload"]))
    return events
