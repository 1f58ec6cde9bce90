"""Exactly once and preferences (issue 6, D14) on a real PostgreSQL: handlers run as the consumer runs them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
import pytest
from premiums_contracts.events import (
    AccountDelinquent,
    AutopayDraftScheduled,
    InvoiceIssued,
    PaymentReturned,
    PaymentSubmitted,
)
from premiums_notifications import repository as repo
from premiums_notifications.domain.preferences import Preferences

from tests.integration.notifications.support import handle, known_member, notices_of

pytestmark = pytest.mark.integration


def _delinquent(member_id: str, enrollment_id: str) -> AccountDelinquent:
    return AccountDelinquent(
        enrollment_id=enrollment_id,
        member_id=member_id,
        first_unpaid_month="2027-03",
        amount_past_due=Decimal("312.40"),
        pay_by=date(2027, 3, 23),
        notice="past_due_warning",
    )


def _monthly_bill(member_id: str, enrollment_id: str) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id="inv-x",
        enrollment_id=enrollment_id,
        member_id=member_id,
        coverage_month="2027-04",
        due_date=date(2027, 3, 23),
        amount_due=Decimal("312.40"),
        past_due=Decimal("0.00"),
        total_due=Decimal("312.40"),
        binder=False,
    )


async def test_n6_delivered_twice_and_republished_under_a_new_ce_id_is_queued_once(ntf_pool: asyncpg.Pool) -> None:
    e = await known_member(ntf_pool, "es")
    warning = _delinquent(e.member_id, e.enrollment_id)
    for _ in range(3):
        await handle(ntf_pool, warning, e.enrollment_id)
    rows = await notices_of(ntf_pool, e.member_id)
    assert [(r["kind"], r["channel"]) for r in rows] == [("N6", "email")]
    assert json.loads(rows[0]["facts"])["pay_by"] == "2027-03-23"


async def test_n13_for_a_return_without_member_id_finds_the_member_and_the_month_it_unpaid(
    ntf_pool: asyncpg.Pool,
) -> None:
    e = await known_member(ntf_pool)
    submitted = PaymentSubmitted(
        payment_id="pay-r01",
        confirmation_number="7KQ2-M9XD-4RA",
        enrollment_id=e.enrollment_id,
        member_id=e.member_id,
        amount=Decimal("312.40"),
        channel="autopay",
        method="ach_debit",
        account_last4="0001",
        received_at=datetime(2027, 3, 22, 12, tzinfo=UTC),
        business_date=date(2027, 3, 22),
        coverage_month="2027-04",
    )
    returned = PaymentReturned(
        payment_id="pay-r01",
        enrollment_id=e.enrollment_id,
        amount=Decimal("312.40"),
        return_code="R01",
        return_reason="Insufficient funds",
        returned_on=date(2027, 3, 24),
        retry_eligible=True,
    )
    await handle(ntf_pool, _monthly_bill(e.member_id, e.enrollment_id), e.enrollment_id)
    await handle(ntf_pool, submitted, e.enrollment_id)
    await handle(ntf_pool, returned, e.enrollment_id)
    await handle(ntf_pool, returned, e.enrollment_id)
    rows = await notices_of(ntf_pool, e.member_id)
    assert [r["kind"] for r in rows] == ["N3", "N4", "N13"]
    facts = json.loads(rows[2]["facts"])
    assert facts["coverage_month"] == "2027-04" and facts["pay_by"] == "2027-03-23" and facts["retry_scheduled"]
    assert facts["return_reason"] == "insufficient_funds" and facts["account_last4"] == "0001"


async def test_d14_sms_only_and_paper_member_gets_the_bill_by_sms_and_paper_and_the_warning_too(
    ntf_pool: asyncpg.Pool,
) -> None:
    e = await known_member(ntf_pool)
    prefs = Preferences(channels=("sms",), paperless=False, reminders_opt_out=True)
    await repo.save_preferences(ntf_pool, e.member_id, prefs, e.member_id)
    await handle(ntf_pool, _monthly_bill(e.member_id, e.enrollment_id), e.enrollment_id)
    await handle(ntf_pool, _delinquent(e.member_id, e.enrollment_id), e.enrollment_id)
    rows = await notices_of(ntf_pool, e.member_id)
    assert sorted((r["kind"], r["channel"]) for r in rows) == [
        ("N3", "print"),
        ("N3", "sms"),
        ("N6", "print"),
        ("N6", "sms"),
    ]


async def test_d14_a_member_who_chose_no_channel_still_gets_the_legally_required_warning_by_email(
    ntf_pool: asyncpg.Pool,
) -> None:
    e = await known_member(ntf_pool)
    await repo.save_preferences(ntf_pool, e.member_id, Preferences(channels=()), e.member_id)
    await handle(ntf_pool, _monthly_bill(e.member_id, e.enrollment_id), e.enrollment_id)
    await handle(ntf_pool, _delinquent(e.member_id, e.enrollment_id), e.enrollment_id)
    assert [(r["kind"], r["channel"]) for r in await notices_of(ntf_pool, e.member_id)] == [("N6", "email")]


async def test_n12_a_draft_event_without_member_id_is_addressed_through_the_enrollment(ntf_pool: asyncpg.Pool) -> None:
    e = await known_member(ntf_pool)
    draft = AutopayDraftScheduled(
        mandate_id="mdt-9",
        enrollment_id=e.enrollment_id,
        coverage_month="2027-04",
        draft_date=date(2027, 3, 22),
        amount=Decimal("330.00"),
        amount_changed=True,
        previous_amount=Decimal("312.40"),
    )
    await handle(ntf_pool, draft, e.enrollment_id)
    await handle(ntf_pool, draft, e.enrollment_id)
    assert [r["kind"] for r in await notices_of(ntf_pool, e.member_id)] == ["N12"]


async def test_an_event_for_an_enrollment_not_seen_yet_is_refused_so_the_consumer_retries_it(
    ntf_pool: asyncpg.Pool,
) -> None:
    draft = AutopayDraftScheduled(
        mandate_id="mdt-0",
        enrollment_id="RefID0000000000",
        coverage_month="2027-04",
        draft_date=date(2027, 3, 22),
        amount=Decimal("330.00"),
        amount_changed=False,
    )
    with pytest.raises(repo.UnknownEnrollment):
        await handle(ntf_pool, draft, draft.enrollment_id)
