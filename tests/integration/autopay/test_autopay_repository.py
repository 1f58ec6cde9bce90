"""autopay's use cases and SQL on a real, fresh PostgreSQL database (D9, D10, R4.3–R4.6, R5.9–R5.14, N12).

The handlers run as the service runs them: one transaction each, the events they cause returned for the outbox.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from premiums_autopay import repository as repo
from premiums_autopay.adapters.payments_client import PaymentsClient, PaymentsUnavailable
from premiums_autopay.handlers import Autopay, MandateRequest
from premiums_common.clock import BusinessClock
from premiums_common.consumer import Incoming
from premiums_common.outbox import Outgoing
from premiums_common.timezone import NEW_YORK
from premiums_contracts import Envelope, Event
from premiums_contracts.events import (
    AccountDelinquent,
    BankAccountChanged,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    InvoiceIssued,
    PaymentReturned,
    PaymentSubmitted,
)

from tests.integration.support import collected

pytestmark = [pytest.mark.integration]


def clock_at(day: date) -> BusinessClock:
    clock = BusinessClock("simulated")
    clock.observe(day)
    return clock


def autopay_on(day: date) -> Autopay:
    return Autopay("/premiums/autopay", clock_at(day), 22)


def incoming(event: Event, key: str) -> Incoming:
    envelope = Envelope(type=event.ce_type(), source="/premiums/it", subject=key)
    return Incoming(envelope, event, event.topic, 0, 0, key, None)


class Member:
    def __init__(self) -> None:
        self.member_id = f"{random.randrange(10**11, 10**12)}"
        self.enrollment_id = f"RefID{random.randrange(10**9, 10**10)}"
        self.token = f"tok_{uuid.uuid4().hex}"

    def invoice(self, month: str, total: str, *, binder: bool = False, past_due: str = "0.00") -> InvoiceIssued:
        year, mon = (int(p) for p in month.split("-"))
        due = date(year - (mon == 1), 12 if mon == 1 else mon - 1, 23)
        return InvoiceIssued(
            invoice_id=f"inv_{uuid.uuid4().hex}",
            enrollment_id=self.enrollment_id,
            member_id=self.member_id,
            coverage_month=month,
            due_date=due,
            amount_due=Decimal(total) - Decimal(past_due),
            past_due=Decimal(past_due),
            total_due=Decimal(total),
            binder=binder,
        )

    def payment(
        self, amount: Decimal, day: date, *, request_id: str | None = None, coverage_month: str | None = None
    ) -> PaymentSubmitted:
        """A payment payments accepted: an AutoPay draft's when `request_id` names the draft, else the portal's."""
        return PaymentSubmitted(
            payment_id=f"pay_{uuid.uuid4().hex}",
            confirmation_number="AP-TEST" if request_id else "PORTAL",
            enrollment_id=self.enrollment_id,
            member_id=self.member_id,
            amount=amount,
            channel="autopay" if request_id else "portal",
            method="ach_debit",
            account_last4="4321",
            received_at=datetime.now(NEW_YORK),
            business_date=day,
            coverage_month=coverage_month,
            request_id=request_id,
        )

    def mandate(self, *, token: str | None = None, last4: str = "4321", validated: bool = True) -> MandateRequest:
        return MandateRequest(
            enrollment_id=self.enrollment_id,
            member_id=self.member_id,
            instrument_token=token or self.token,
            account_last4=last4,
            account_type="checking",
            validated=validated,
            channel="portal",
            authorization_text_version="autopay-auth-v1",
            authorized_by=self.member_id,
            ip_address="203.0.113.9",
            user_agent="pytest",
        )


async def run(pool: asyncpg.Pool, handler: Any, event: Event, key: str) -> list[Outgoing]:
    async with pool.acquire() as con, con.transaction():
        return list(await handler(con, incoming(event, key)))


async def set_up(
    pool: asyncpg.Pool, autopay: Autopay, request: MandateRequest
) -> tuple[dict[str, Any], list[Outgoing]]:
    async with pool.acquire() as con, con.transaction():
        return await autopay.set_up(con, request)


async def draft_day(pool: asyncpg.Pool, autopay: Autopay, day: date) -> list[Outgoing]:
    async with pool.acquire() as con, con.transaction():
        return await collected(autopay.draft_day_job(con, day))


def for_member(out: list[Outgoing], member: Member) -> list[Outgoing]:
    return [o for o in out if o.envelope.subject == member.enrollment_id]


def names(out: list[Outgoing]) -> list[str]:
    return [type(o.event).__name__ for o in out]


async def submitted(pool: asyncpg.Pool, autopay: Autopay, member: Member, request: Outgoing) -> str:
    """payments accepts the RequestPayment and publishes PaymentSubmitted with the same request_id."""
    command: Any = request.event
    event = member.payment(
        command.amount, date(2027, 4, 22), request_id=command.request_id, coverage_month=command.coverage_month
    )
    await run(pool, autopay.payment_submitted, event, member.enrollment_id)
    return event.payment_id


def returned(member: Member, payment_id: str, amount: Decimal, code: str, on: date) -> PaymentReturned:
    return PaymentReturned(
        payment_id=payment_id,
        enrollment_id=member.enrollment_id,
        amount=amount,
        return_code=code,
        return_reason="sandbox",
        returned_on=on,
        retry_eligible=code in ("R01", "R09"),
    )


async def on_autopay_with_may_bill(pool: asyncpg.Pool, total: str = "312.40") -> tuple[Member, Autopay, list[Outgoing]]:
    member = Member()
    autopay = autopay_on(date(2027, 4, 1))
    await run(pool, autopay.invoice_issued, member.invoice("2027-04", "312.40"), member.enrollment_id)
    await set_up(pool, autopay, member.mandate())
    # April's bill was open when AutoPay started; it is drafted on the 22nd like any other.
    first = for_member(await draft_day(pool, autopay_on(date(2027, 3, 22)), date(2027, 3, 22)), member)
    assert names(first) == ["RequestPayment"]
    await submitted(pool, autopay, member, first[0])
    notices = await run(pool, autopay.invoice_issued, member.invoice("2027-05", total), member.enrollment_id)
    return member, autopay, notices


async def test_d9_a_bill_is_drafted_once_on_the_22nd_for_the_amount_due_and_a_replayed_day_drafts_nothing(
    autopay_pool: asyncpg.Pool,
) -> None:
    member, autopay, notices = await on_autopay_with_may_bill(autopay_pool)
    assert names(notices) == ["AutopayDraftScheduled"]
    assert notices[0].event.amount == Decimal("312.40") and not notices[0].event.amount_changed
    assert notices[0].event.draft_date == date(2027, 4, 22)

    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 21)), member) == []
    drafts = for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member)
    assert names(drafts) == ["RequestPayment"]
    command: Any = drafts[0].event
    assert (command.amount, command.sec_code, command.payment_type) == (Decimal("312.40"), "WEB", "R")
    assert command.entry_description == "HLTH PREM" and command.coverage_month == "2027-05"
    assert command.instrument_token == member.token and command.request_id.startswith("drf_")
    assert drafts[0].envelope.subject == member.enrollment_id

    # The same day again (a replay, a restart) and the next day (catch-up window): no second draft.
    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member) == []
    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 23)), member) == []
    async with autopay_pool.acquire() as con:
        assert (
            len([d for d in await repo.drafts_of(con, member.enrollment_id) if d["coverage_month"] == "2027-05"]) == 1
        )


async def test_d9_two_replicas_claiming_the_same_day_draft_once(autopay_pool: asyncpg.Pool) -> None:
    member, _, _ = await on_autopay_with_may_bill(autopay_pool)
    day = date(2027, 4, 22)

    async def claim() -> list[Any]:
        async with autopay_pool.acquire() as con, con.transaction():
            rows, _ = await repo.claim_monthly_drafts(con, day)
            await asyncio.sleep(0.2)  # hold the row locks while the other replica runs
            return [r for r in rows if r["enrollment_id"] == member.enrollment_id]

    first, second = await asyncio.gather(claim(), claim())
    assert len(first) + len(second) == 1


async def test_d9_a_draft_day_larger_than_a_page_drafts_every_mandate_once(
    autopay_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The draft day walks the due mandates a page at a time (memory stays flat); pages of two over five
    members draft each once, the same as one page would, and the day run again drafts nothing."""
    members = [(await on_autopay_with_may_bill(autopay_pool))[0] for _ in range(5)]
    mine = {m.enrollment_id for m in members}
    monkeypatch.setattr(repo, "DRAFT_PAGE", 2)
    autopay = autopay_on(date(2027, 4, 22))

    drafts = [o for o in await draft_day(autopay_pool, autopay, date(2027, 4, 22)) if o.envelope.subject in mine]

    assert sorted(o.envelope.subject for o in drafts) == sorted(mine)
    assert {o.event.amount for o in drafts} == {Decimal("312.40")}  # type: ignore[attr-defined]
    again = await draft_day(autopay_pool, autopay, date(2027, 4, 22))
    assert [o for o in again if o.envelope.subject in mine] == []


async def test_d9_a_page_of_the_draft_day_reports_where_it_ended(autopay_pool: asyncpg.Pool) -> None:
    """`claim_monthly_drafts` pages in mandate order: at most `limit` drafts, then None when no due mandate is
    left; walking the day again from the start drafts nothing (the once-per-month constraint)."""
    for _ in range(3):
        await on_autopay_with_may_bill(autopay_pool)
    day = date(2027, 4, 22)
    async with autopay_pool.acquire() as con, con.transaction():
        pages, after = [], ""
        while True:
            drafts, page_end = await repo.claim_monthly_drafts(con, day, after=after, limit=2)
            if page_end is None:
                break
            assert len(drafts) <= 2 and all(d["mandate_id"] <= page_end for d in drafts)
            assert page_end > after
            pages.append(drafts)
            after = page_end
        assert len(pages) >= 2
        drafted = [d["mandate_id"] for page in pages for d in page]
        assert len(drafted) == len(set(drafted))
        replayed, _ = await repo.claim_monthly_drafts(con, day)
        assert replayed == []


async def test_r4_4_nothing_is_drafted_when_the_bill_is_already_paid(autopay_pool: asyncpg.Pool) -> None:
    member, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
    paid = member.payment(Decimal("312.40"), date(2027, 4, 10))
    await run(autopay_pool, autopay.payment_submitted, paid, member.enrollment_id)
    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member) == []


async def test_n12_a_changed_amount_is_announced_with_the_previous_one(autopay_pool: asyncpg.Pool) -> None:
    _, _, notices = await on_autopay_with_may_bill(autopay_pool, total="624.80")
    notice: Any = notices[0].event
    assert notice.amount == Decimal("624.80") and notice.amount_changed
    assert notice.previous_amount == Decimal("312.40")
    assert (notice.draft_date - date(2027, 4, 1)).days >= 10


async def test_d10_an_r01_draft_is_retried_once_three_banking_days_later_as_retry_pymt(
    autopay_pool: asyncpg.Pool,
) -> None:
    member, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
    draft = for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member)[0]
    payment_id = await submitted(autopay_pool, autopay, member, draft)
    bounce = returned(member, payment_id, Decimal("312.40"), "R01", date(2027, 4, 26))  # a Monday
    assert await run(autopay_pool, autopay.payment_returned, bounce, member.enrollment_id) == []

    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 28)), member) == []
    retries = for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 29)), member)
    assert names(retries) == ["RequestPayment"]
    retry: Any = retries[0].event
    assert retry.entry_description == "RETRY PYMT" and retry.reinitiation_of == payment_id
    assert retry.amount == Decimal("312.40")

    retry_payment = await submitted(autopay_pool, autopay, member, retries[0])
    again = returned(member, retry_payment, Decimal("312.40"), "R01", date(2027, 5, 3))
    await run(autopay_pool, autopay.payment_returned, again, member.enrollment_id)
    for day in (date(2027, 5, 6), date(2027, 5, 7), date(2027, 5, 10)):
        assert for_member(await draft_day(autopay_pool, autopay, day), member) == [], "retried once, not again"


async def test_r5_9_an_r02_return_suspends_the_mandate_and_later_bills_are_not_drafted(
    autopay_pool: asyncpg.Pool,
) -> None:
    member, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
    draft = for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member)[0]
    payment_id = await submitted(autopay_pool, autopay, member, draft)
    out = await run(
        autopay_pool,
        autopay.payment_returned,
        returned(member, payment_id, Decimal("312.40"), "R02", date(2027, 4, 26)),
        member.enrollment_id,
    )
    assert names(out) == ["AutopaySuspended"] and out[0].event.return_code == "R02"
    async with autopay_pool.acquire() as con:
        assert (await repo.live_mandate(con, member.enrollment_id))["status"] == "suspended"
    await run(autopay_pool, autopay.invoice_issued, member.invoice("2027-06", "312.40"), member.enrollment_id)
    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 5, 22)), member) == []

    # New bank details re-activate the same mandate (AutopayChanged) for the next draft.
    shown, changed = await set_up(autopay_pool, autopay, member.mandate(token=f"tok_{uuid.uuid4().hex}", last4="7777"))
    assert names(changed) == ["AutopayChanged"] and shown["status"] == "active" and shown["account_last4"] == "7777"
    assert names(for_member(await draft_day(autopay_pool, autopay, date(2027, 5, 23)), member)) == ["RequestPayment"]


async def test_r5_9_an_r07_return_revokes_the_mandate(autopay_pool: asyncpg.Pool) -> None:
    member, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
    draft = for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member)[0]
    payment_id = await submitted(autopay_pool, autopay, member, draft)
    out = await run(
        autopay_pool,
        autopay.payment_returned,
        returned(member, payment_id, Decimal("312.40"), "R07", date(2027, 4, 26)),
        member.enrollment_id,
    )
    assert names(out) == ["AutopayCancelled"] and "R07" in out[0].event.reason
    async with autopay_pool.acquire() as con:
        assert await repo.live_mandate(con, member.enrollment_id) is None


async def test_drafts_stop_when_coverage_is_terminated_and_resume_on_reinstatement(autopay_pool: asyncpg.Pool) -> None:
    member, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
    ended = CoverageTerminated(
        enrollment_id=member.enrollment_id,
        member_id=member.member_id,
        end_date=date(2027, 4, 30),
        reason="non-payment",
        reinstate_by=date(2027, 5, 30),
    )
    await run(autopay_pool, autopay.coverage_event, ended, member.enrollment_id)
    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member) == []
    back = CoverageReinstated(
        enrollment_id=member.enrollment_id, member_id=member.member_id, paid_through=date(2027, 4, 30)
    )
    await run(autopay_pool, autopay.coverage_event, back, member.enrollment_id)
    assert names(for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 23)), member)) == ["RequestPayment"]


async def test_r4_6_autopay_set_up_before_the_binder_drafts_it_the_next_day_and_never_retries_it(
    autopay_pool: asyncpg.Pool,
) -> None:
    member = Member()
    autopay = autopay_on(date(2027, 1, 10))
    await run(
        autopay_pool, autopay.invoice_issued, member.invoice("2027-02", "312.40", binder=True), member.enrollment_id
    )
    shown, out = await set_up(autopay_pool, autopay, member.mandate())
    assert shown["status"] == "active" and shown["sec_code"] == "WEB"
    assert names(out) == ["AutopayEnrolled", "AutopayDraftScheduled"]
    enrolled: Any = out[0].event
    assert (enrolled.account_type, enrolled.sec_code, enrolled.draft_day) == ("checking", "WEB", 22)
    assert enrolled.authorization_text_version == "autopay-auth-v1" and enrolled.authorized_at is not None
    assert out[1].event.draft_date == date(2027, 1, 11)
    binder = for_member(await draft_day(autopay_pool, autopay, date(2027, 1, 11)), member)
    assert names(binder) == ["RequestPayment"] and binder[0].event.amount == Decimal("312.40")
    payment_id = await submitted(autopay_pool, autopay, member, binder[0])
    bounce = returned(member, payment_id, Decimal("312.40"), "R01", date(2027, 1, 13))
    await run(autopay_pool, autopay.payment_returned, bounce, member.enrollment_id)
    for day in (date(2027, 1, 18), date(2027, 1, 19)):
        assert for_member(await draft_day(autopay_pool, autopay, day), member) == [], "a binder is never retried"


async def test_r4_5_one_live_mandate_per_enrollment_and_an_unvalidated_account_waits(
    autopay_pool: asyncpg.Pool,
) -> None:
    member = Member()
    autopay = autopay_on(date(2027, 4, 1))
    await run(autopay_pool, autopay.invoice_issued, member.invoice("2027-05", "312.40"), member.enrollment_id)
    shown, out = await set_up(autopay_pool, autopay, member.mandate(validated=False))
    assert shown["status"] == "pending_validation" and names(out) == ["AutopayEnrolled"]
    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member) == []
    again, _ = await set_up(autopay_pool, autopay, member.mandate(token=f"tok_{uuid.uuid4().hex}"))
    assert again["mandate_id"] == shown["mandate_id"] and again["status"] == "active"
    async with autopay_pool.acquire() as con:
        assert len(await repo.mandates_of(con, member.enrollment_id)) == 1
        auth = await repo.latest_authorization(con, shown["mandate_id"])
        assert (auth["authorization_text_version"], auth["channel"], auth["sec_code"]) == (
            "autopay-auth-v1",
            "portal",
            "WEB",
        )
        assert auth["ip_address"] == "203.0.113.9" and auth["user_agent"] == "pytest"


async def test_r5_14_a_notification_of_change_updates_the_mandate(autopay_pool: asyncpg.Pool) -> None:
    member, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
    noc = BankAccountChanged(
        instrument_token=member.token,
        enrollment_id=member.enrollment_id,
        change_code="C01",
        account_last4="9898",
        account_type="checking",
    )
    out = await run(autopay_pool, autopay.bank_account_changed, noc, member.enrollment_id)
    assert names(out) == ["AutopayChanged"] and out[0].event.account_last4 == "9898"
    assert "C01" in out[0].event.reason


async def test_r4_6_a_binder_draft_is_not_sent_once_the_enrollment_was_cancelled(autopay_pool: asyncpg.Pool) -> None:
    member = Member()
    autopay = autopay_on(date(2027, 1, 22))
    await run(
        autopay_pool, autopay.invoice_issued, member.invoice("2027-02", "312.40", binder=True), member.enrollment_id
    )
    await set_up(autopay_pool, autopay, member.mandate())
    cancelled = EnrollmentCancelledNoBinder(
        enrollment_id=member.enrollment_id,
        member_id=member.member_id,
        coverage_start=date(2027, 2, 1),
        reason="binder not paid by the due date",
    )
    await run(autopay_pool, autopay.coverage_event, cancelled, member.enrollment_id)
    assert for_member(await draft_day(autopay_pool, autopay, date(2027, 1, 23)), member) == []
    async with autopay_pool.acquire() as con:
        assert [d["status"] for d in await repo.drafts_of(con, member.enrollment_id)] == ["skipped"]


async def test_d9_a_paper_form_entered_by_staff_is_a_ppd_mandate(autopay_pool: asyncpg.Pool) -> None:
    member = Member()
    autopay = autopay_on(date(2027, 4, 1))
    await run(autopay_pool, autopay.invoice_issued, member.invoice("2027-05", "312.40"), member.enrollment_id)
    paper = replace(member.mandate(), channel="paper", authorized_by="staff-0042")
    shown, _ = await set_up(autopay_pool, autopay, paper)
    assert (shown["sec_code"], shown["payment_type"], shown["channel"]) == ("PPD", "R", "paper")
    drafted = for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), member)
    assert drafted[0].event.sec_code == "PPD"


async def test_payments_unreachable_is_a_plain_error_not_a_hang(infrastructure: None) -> None:
    client = PaymentsClient("http://127.0.0.1:9", timeout=2.0)
    with pytest.raises(PaymentsUnavailable):
        await client.bank_account("tok_anything", "a-bearer-token")


async def test_n12_a_bill_days_run_of_invoices_announces_exactly_what_one_by_one_announces(
    autopay_pool: asyncpg.Pool,
) -> None:
    """The set-based `invoices_issued` (a bill day's run) against `invoice_issued`, event by event, on two
    identical groups of members: one on AutoPay, one without a mandate, one billed its binder."""

    async def group() -> tuple[dict[str, Member], Autopay]:
        on_autopay, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
        members = {"autopay": on_autopay, "none": Member(), "binder": Member()}
        await run(autopay_pool, autopay.invoice_issued, members["none"].invoice("2027-05", "99.00"), "x")
        return members, autopay

    def june(members: dict[str, Member]) -> list[InvoiceIssued]:
        return [
            members["autopay"].invoice("2027-06", "320.00"),
            members["none"].invoice("2027-06", "99.00"),
            members["binder"].invoice("2027-06", "50.00", binder=True),
        ]

    async def outcome(members: dict[str, Member], out: list[Outgoing]) -> tuple[list[Any], list[Any]]:
        role = {m.enrollment_id: name for name, m in members.items()}
        rows = await autopay_pool.fetch(
            "SELECT enrollment_id, coverage_month, total_due, draft_on FROM billing_state"
            " WHERE enrollment_id = ANY($1)",
            list(role),
        )
        announced = [
            (role[o.envelope.subject], type(o.event).__name__, o.event.draft_date, o.event.amount)  # type: ignore[attr-defined]
            for o in out
        ]
        return announced, sorted((role[r["enrollment_id"]], *tuple(r)[1:]) for r in rows)

    one, autopay_one = await group()
    by_event = [o for i in june(one) for o in await run(autopay_pool, autopay_one.invoice_issued, i, i.enrollment_id)]
    batch, autopay_batch = await group()
    async with autopay_pool.acquire() as con, con.transaction():
        by_run = list(await autopay_batch.invoices_issued(con, [incoming(i, i.enrollment_id) for i in june(batch)]))

    assert await outcome(batch, by_run) == await outcome(one, by_event)
    assert [a[0] for a in (await outcome(batch, by_run))[0]] == ["autopay"], "N12: only the AutoPay member"
    async with autopay_pool.acquire() as con, con.transaction():
        again = await autopay_batch.invoices_issued(con, [incoming(i, i.enrollment_id) for i in june(batch)])
    assert again == [], "the same month billed again is announced once"


async def test_r4_4_d10_runs_of_payments_delinquencies_and_coverage_changes_land_as_one_by_one_would(
    autopay_pool: asyncpg.Pool,
) -> None:
    """The set-based `payments_submitted` and `coverage_changed` (a clearing day's runs): a draft that became a
    payment and a portal payment each pay their bill, and a run of terminations stops both members' drafts."""
    drafted, autopay, _ = await on_autopay_with_may_bill(autopay_pool)
    portal, _, _ = await on_autopay_with_may_bill(autopay_pool)
    draft: Any = for_member(await draft_day(autopay_pool, autopay, date(2027, 4, 22)), drafted)[0].event

    def paid(member: Member, request_id: str | None) -> Incoming:
        return incoming(
            member.payment(Decimal("312.40"), date(2027, 4, 22), request_id=request_id), member.enrollment_id
        )

    run_of_payments = [paid(drafted, draft.request_id), paid(portal, None)]
    async with autopay_pool.acquire() as con, con.transaction():
        assert await autopay.payments_submitted(con, run_of_payments) == []
    async with autopay_pool.acquire() as con:
        for member in (drafted, portal):
            assert (await repo.billing(con, member.enrollment_id))["paid"] == Decimal("312.40")
        [row] = [d for d in await repo.drafts_of(con, drafted.enrollment_id) if d["draft_id"] == draft.request_id]
        assert (row["status"], row["payment_id"]) == ("submitted", run_of_payments[0].event.payment_id)

    behind = [
        incoming(
            AccountDelinquent(
                enrollment_id=m.enrollment_id,
                member_id=m.member_id,
                first_unpaid_month="2027-05",
                amount_past_due=Decimal("312.40"),
                pay_by=date(2027, 5, 23),
                notice="past_due_warning",
            ),
            m.enrollment_id,
        )
        for m in (drafted, portal)
    ]
    async with autopay_pool.acquire() as con, con.transaction():
        assert await autopay.accounts_delinquent(con, behind) == []
    async with autopay_pool.acquire() as con:
        for member in (drafted, portal):
            assert (await repo.billing(con, member.enrollment_id))["delinquent_pay_by"] == date(2027, 5, 23)

    ended = [
        incoming(
            CoverageTerminated(
                enrollment_id=m.enrollment_id,
                member_id=m.member_id,
                end_date=date(2027, 5, 31),
                reason="non-payment",
                reinstate_by=date(2027, 6, 30),
            ),
            m.enrollment_id,
        )
        for m in (drafted, portal)
    ]
    async with autopay_pool.acquire() as con, con.transaction():
        assert await autopay.coverage_changed(con, ended) == []
    await run(autopay_pool, autopay.invoice_issued, drafted.invoice("2027-06", "312.40"), drafted.enrollment_id)
    await run(autopay_pool, autopay.invoice_issued, portal.invoice("2027-06", "312.40"), portal.enrollment_id)
    june_drafts = await draft_day(autopay_pool, autopay, date(2027, 5, 22))
    assert for_member(june_drafts, drafted) == [] and for_member(june_drafts, portal) == []
