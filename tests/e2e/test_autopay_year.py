"""AutoPay for a whole plan year through Kafka, HTTP and the simulated clock, with coverage's real bills and
the sandbox bank (D9, D10, R4.3–R4.6, R5.9–R5.11, N12). Everyone starts coverage on the next January 1:
- Ana sets AutoPay up while her binder is pending: it drafts the binder the next day (R4.6), then every
  monthly bill coverage issues on the 1st is drafted on the 22nd, exactly once, for the amount due: twelve
  drafts in the year, one per coverage month. When her premium changes (PremiumChanged upstream) the new
  amount is announced as a changed amount at least 10 days before its draft (N12);
- three more members pay their binder online and then draft every month from a good account: eleven drafts;
- Ben puts AutoPay on an account ending 0001 (R01): the draft is retried once, 3 banking days later, as
  RETRY PYMT, and not again; he then cancels AutoPay;
- Cleo's AutoPay account ends 0002 (R02): the return suspends her mandate and she is not drafted again;
- Dan's ends 0007 (R07): the authorization is revoked and nothing further is drafted;
- Finn (unsubsidized) drafts from an account ending 0001 too: his months are returned, his coverage is
  terminated (R2.8), and from then on nothing is drafted, the scheduled retry included.
A replayed draft day (the same clock record delivered again, then autopay restarted) drafts nothing twice,
and for one month two autopay processes share the consumer group and the database: every mandate is
still drafted exactly once.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from premiums_cli.demo import new_enrollment, submit_enrollment
from premiums_cli.kafka_io import producer, publish, read_all
from premiums_cli.token import token_for
from premiums_common.banking_days import add_banking_days
from premiums_common.outbox import Outgoing
from premiums_contracts import Envelope
from premiums_contracts.events import EnrollmentSubmitted, PremiumChanged

from tests.e2e.support import (
    PAYMENTS,
    body_of,
    business_date,
    coverage_events,
    headers_of,
    premiums,
    records_for,
)
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system"), pytest.mark.timeout(2400)]

AUTOPAY = "http://127.0.0.1:8002"
GOOD_ACCOUNT = "000987654321"
PREMIUM = "312.40"
NEW_PREMIUM = "350.00"


def advance(to: date) -> None:
    premiums("clock", "advance", "--to", to.isoformat(), "--wait")


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def auth(enrollment: EnrollmentSubmitted) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(enrollment.member_id, 'member')}"}


async def bodies(topic: str, enrollment: EnrollmentSubmitted, ce_type: str) -> list[dict[str, Any]]:
    return [body_of(r) for r in await records_for(topic, enrollment.enrollment_id, ce_type)]


async def drafts(enrollment: EnrollmentSubmitted) -> list[dict[str, Any]]:
    return await bodies("payments.commands", enrollment, "payments.RequestPayment.v1")


async def autopay_events(enrollment: EnrollmentSubmitted, name: str) -> list[dict[str, Any]]:
    return await bodies("autopay.events", enrollment, f"autopay.{name}.v1")


async def payments_events(enrollment: EnrollmentSubmitted, name: str) -> list[dict[str, Any]]:
    return await bodies("payments.events", enrollment, f"payments.{name}.v1")


async def soon(probe: Any, what: str) -> Any:
    return await eventually(probe, timeout=60, interval=0.5, what=what)


async def vault(http: httpx.AsyncClient, enrollment: EnrollmentSubmitted, account_number: str) -> str:
    body = {
        "routing_number": "011000015",
        "account_number": account_number,
        "account_type": "checking",
        "holder_name": "Ana Rivera",
    }
    response = await http.post(f"{PAYMENTS}/v1/bank-accounts", headers=auth(enrollment), json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["instrument_token"])


async def set_up_autopay(http: httpx.AsyncClient, enrollment: EnrollmentSubmitted, token: str) -> httpx.Response:
    body = {
        "enrollment_id": enrollment.enrollment_id,
        "instrument_token": token,
        "authorization_text_version": "autopay-web-2026-01",
    }
    return await http.post(f"{AUTOPAY}/v1/autopay", headers={**auth(enrollment), "User-Agent": "e2e"}, json=body)


async def known_to_autopay(http: httpx.AsyncClient, enrollment: EnrollmentSubmitted) -> None:
    async def probe() -> bool:
        url = f"{AUTOPAY}/v1/billing/{enrollment.enrollment_id}"
        return (await http.get(url, headers=auth(enrollment))).status_code == 200

    await soon(probe, f"autopay to learn {enrollment.enrollment_id}'s binder bill")


async def pay_binder_online(http: httpx.AsyncClient, enrollment: EnrollmentSubmitted) -> None:
    token = await vault(http, enrollment, GOOD_ACCOUNT)
    order = {
        "enrollment_id": enrollment.enrollment_id,
        "amount": PREMIUM,
        "payment_method": {"type": "bank_account", "instrument_token": token},
    }

    async def payable() -> bool:
        preview = await http.post(f"{PAYMENTS}/v1/payments/preview", headers=auth(enrollment), json=order)
        return preview.status_code == 200

    await soon(payable, "payments to learn the binder bill")
    key = {"Idempotency-Key": f"binder-{enrollment.enrollment_id}"}
    paid = await http.post(f"{PAYMENTS}/v1/payments", headers={**auth(enrollment), **key}, json=order)
    assert paid.status_code == 201, paid.text


async def mandate_of(http: httpx.AsyncClient, enrollment: EnrollmentSubmitted) -> dict[str, Any]:
    url = f"{AUTOPAY}/v1/autopay"
    listed = await http.get(url, params={"enrollment_id": enrollment.enrollment_id}, headers=auth(enrollment))
    assert listed.status_code == 200, listed.text
    return listed.json()[0]  # type: ignore[no-any-return]


async def change_premium(enrollment: EnrollmentSubmitted, effective_month: str) -> None:
    """The upstream enrollment system changes the premium (e.g. an APTC change) from `effective_month`."""
    change = PremiumChanged(
        enrollment_id=enrollment.enrollment_id,
        member_id=enrollment.member_id,
        effective_month=effective_month,
        monthly_premium=Decimal(NEW_PREMIUM),
        aptc_amount=Decimal("382.40"),
    )
    envelope = Envelope(type=change.ce_type(), source="/premiums/e2e", subject=enrollment.enrollment_id)
    async with producer() as client:
        await publish(client, [Outgoing(change, envelope)])
    premiums("wait-idle")


async def replay_clock_record(day: date) -> None:
    """Deliver the clock record of `day` again, byte for byte (what a consumer crash before commit does)."""
    original = [r for r in await read_all("clock.events") if body_of(r)["business_date"] == day.isoformat()][-1]
    async with producer() as client:
        await client.send_and_wait(
            "clock.events", value=original.value, key=original.key, headers=list(original.headers)
        )


def next_plan_year(today: date) -> date:
    """The next January 1 whose binder (due December 23) can still be drafted after AutoPay is set up."""
    return date(today.year + 1, 1, 1) if today <= date(today.year, 12, 1) else date(today.year + 2, 1, 1)


def unsubsidized(enrollment: EnrollmentSubmitted) -> EnrollmentSubmitted:
    return enrollment.model_copy(update={"subsidy": "none", "aptc_amount": Decimal("0.00")})


async def test_a_year_of_autopay_twelve_drafts_retries_revocations_terminations_and_two_replicas() -> None:
    today = business_date()
    start = next_plan_year(today)
    ana, ben, cleo, dan = (new_enrollment(start, premium=PREMIUM) for _ in range(4))
    finn = unsubsidized(new_enrollment(start, premium=PREMIUM))
    crowd = [new_enrollment(start, premium=PREMIUM) for _ in range(3)]
    everyone = [ana, ben, cleo, dan, finn, *crowd]
    for enrollment in everyone:
        await submit_enrollment(enrollment)

    async with httpx.AsyncClient(timeout=30) as http:
        for enrollment in everyone:
            await known_to_autopay(http, enrollment)

        # AutoPay holds tokens only: an account number in the body is refused in plain words.
        with_numbers = await http.post(
            f"{AUTOPAY}/v1/autopay",
            headers=auth(ana),
            json={
                "enrollment_id": ana.enrollment_id,
                "routing_number": "011000015",
                "account_number": GOOD_ACCOUNT,
                "authorization_text_version": "autopay-web-2026-01",
            },
        )
        assert with_numbers.status_code == 422 and "instrument_token" in with_numbers.json()["detail"]
        assert GOOD_ACCOUNT not in with_numbers.text
        bens_token = await vault(http, ben, GOOD_ACCOUNT)
        not_hers = await set_up_autopay(http, ana, bens_token)
        assert not_hers.status_code == 422, "a token of another member is refused"
        paper = await http.post(
            f"{AUTOPAY}/v1/autopay",
            headers=auth(ana),
            json={
                "enrollment_id": ana.enrollment_id,
                "instrument_token": bens_token,
                "authorization_text_version": "paper-2026",
                "channel": "paper",
            },
        )
        assert paper.status_code == 403, "a paper (PPD) mandate is entered by staff"

        # R4.6: Ana sets AutoPay up while her binder is pending.
        created = await set_up_autopay(http, ana, await vault(http, ana, GOOD_ACCOUNT))
        assert created.status_code == 201, created.text
        mandate = created.json()
        assert (mandate["status"], mandate["sec_code"], mandate["payment_type"]) == ("active", "WEB", "R")
        assert mandate["account_last4"] == "4321" and mandate["authorization"]["text_version"] == "autopay-web-2026-01"
        for enrollment in (ben, cleo, dan, finn, *crowd):
            await pay_binder_online(http, enrollment)

    advance(today + timedelta(days=1))
    binder = await soon(lambda: drafts(ana), "Ana's binder draft")
    assert len(binder) == 1 and binder[0]["amount"] == PREMIUM and binder[0]["coverage_month"] == month_of(start)
    assert binder[0]["entry_description"] == "HLTH PREM" and binder[0]["origin"] == "autopay"
    advance(today + timedelta(days=7))
    for enrollment in everyone:
        await soon(
            lambda e=enrollment: records_for("coverage.events", e.enrollment_id, "coverage.CoverageActivated.v1"),
            f"{enrollment.enrollment_id} activated",
        )
    submitted = await payments_events(ana, "PaymentSubmitted")
    assert [s["request_id"] for s in submitted] == [binder[0]["request_id"]]

    async with httpx.AsyncClient(timeout=30) as http:
        accounts = [(ben, "000555550001"), (cleo, "000555550002"), (dan, "000555550007"), (finn, "000555560001")]
        accounts += [(member, GOOD_ACCOUNT) for member in crowd]
        for enrollment, account in accounts:
            response = await set_up_autopay(http, enrollment, await vault(http, enrollment, account))
            assert response.status_code == 201, response.text

    # Every monthly bill of the plan year (R1.6: it ends December 31), issued by coverage on the 1st and
    # drafted on the 22nd, once; the third bill carries a new premium.
    first_bill = start
    change_bill = next_month(next_month(first_bill))
    two_replicas_bill = next_month(change_bill)
    finn_drafts_when_terminated: int | None = None
    bill_day = first_bill
    while bill_day.year == start.year and bill_day.month < 12:
        coverage_month = month_of(next_month(bill_day))
        draft_day = bill_day.replace(day=22)
        amount = NEW_PREMIUM if bill_day >= change_bill else PREMIUM
        if bill_day == change_bill:
            await change_premium(ana, coverage_month)
        if bill_day == two_replicas_bill:
            premiums("stack", "scale", "autopay", "2")  # one consumer group, one database, two processes
        advance(bill_day)

        async def announced(month: str = coverage_month) -> list[dict[str, Any]]:
            return [n for n in await autopay_events(ana, "AutopayDraftScheduled") if n["coverage_month"] == month]

        notice = (await soon(announced, f"Ana's {coverage_month} draft notice"))[0]
        assert notice["amount"] == amount and notice["draft_date"] == draft_day.isoformat(), notice
        assert notice["amount_changed"] is (bill_day == change_bill), notice
        if bill_day == change_bill:
            # N12: the varying amount is announced with the previous one, at least 10 days ahead.
            assert notice["previous_amount"] == PREMIUM
            assert (date.fromisoformat(notice["draft_date"]) - bill_day).days >= 10

        if bill_day == next_month(first_bill):
            assert not [
                n for n in await autopay_events(cleo, "AutopayDraftScheduled") if n["coverage_month"] == coverage_month
            ], "a suspended mandate announces nothing"
            async with httpx.AsyncClient(timeout=30) as http:
                bens = await mandate_of(http, ben)
                gone = await http.delete(f"{AUTOPAY}/v1/autopay/{bens['mandate_id']}", headers=auth(ben))
                assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
            assert await soon(lambda: autopay_events(ben, "AutopayCancelled"), "Ben's cancellation")

        advance(draft_day - timedelta(days=1))
        advance(draft_day)
        month_drafts = [d for d in await drafts(ana) if d["coverage_month"] == coverage_month]
        assert len(month_drafts) == 1, month_drafts
        assert month_drafts[0]["amount"] == amount and month_drafts[0]["sec_code"] == "WEB"

        for member in crowd:
            drafted = [d for d in await drafts(member) if d["coverage_month"] == coverage_month]
            assert [d["amount"] for d in drafted] == [PREMIUM], f"{member.enrollment_id}: {drafted}"
        if bill_day == two_replicas_bill:
            premiums("wait-idle")
            assert "autopay-2" in premiums("stack", "status"), "the second replica ran through the month"
            premiums("stack", "scale", "autopay", "1")
        if bill_day == first_bill:
            await returns_in_the_first_month(ben, cleo, coverage_month, draft_day)
            await revoked_by_r07(dan, coverage_month)
        if bill_day == next_month(first_bill):
            for enrollment in (ben, cleo):
                assert not [d for d in await drafts(enrollment) if d["coverage_month"] == coverage_month]
        if bill_day == change_bill:
            # A replayed draft day and a restart draft nothing twice.
            await replay_clock_record(draft_day)
            premiums("stack", "restart", "autopay")
            premiums("wait-idle")
            assert len([d for d in await drafts(ana) if d["coverage_month"] == coverage_month]) == 1
        if finn_drafts_when_terminated is None and await coverage_events(finn, "CoverageTerminated"):
            finn_drafts_when_terminated = len(await drafts(finn))
        bill_day = next_month(bill_day)

    by_month = sorted(d["coverage_month"] for d in await drafts(ana))
    assert by_month == [month_of(date(start.year, m, 1)) for m in range(1, 13)], "twelve drafts, one a month"
    assert len(await drafts(dan)) == 1, "R07: nothing drafted after the revocation"
    [ended] = await coverage_events(finn, "CoverageTerminated")
    assert ended["end_date"] == date(start.year, 1, 31).isoformat(), "R2.8: back to the last month paid"
    assert finn_drafts_when_terminated is not None and len(await drafts(finn)) == finn_drafts_when_terminated, (
        "nothing drafted once coverage ended"
    )
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await mandate_of(http, finn))["status"] == "active", "the mandate stays; coverage stopped it"


async def revoked_by_r07(dan: EnrollmentSubmitted, coverage_month: str) -> None:
    """R5.9/D10: R07 (authorization revoked) is never retried and revokes the mandate."""
    cancelled = await soon(lambda: autopay_events(dan, "AutopayCancelled"), "Dan's revocation")
    assert cancelled[0]["reason"].startswith("R07"), cancelled
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await mandate_of(http, dan))["status"] == "revoked"
    assert [d["coverage_month"] for d in await drafts(dan)] == [coverage_month], "never retried"


async def returns_in_the_first_month(
    ben: EnrollmentSubmitted, cleo: EnrollmentSubmitted, coverage_month: str, draft_day: date
) -> None:
    """D10: R01 retried once 3 banking days after the return, then not again; R02 suspends the mandate."""
    for enrollment in (ben, cleo):
        assert len([d for d in await drafts(enrollment) if d["coverage_month"] == coverage_month]) == 1
    # One business day at a time, so every service is on the same date when it acts.
    day = draft_day
    while not await payments_events(ben, "PaymentReturned"):
        assert day < draft_day + timedelta(days=7), "the R01 return never came"
        day += timedelta(days=1)
        advance(day)
    first_return = (await payments_events(ben, "PaymentReturned"))[0]
    assert first_return["return_code"] == "R01"
    retry_on = add_banking_days(date.fromisoformat(first_return["returned_on"]), 3)

    async def retried() -> list[dict[str, Any]]:
        return [d for d in await drafts(ben) if d["entry_description"] == "RETRY PYMT"]

    while day < retry_on:
        assert not await retried(), f"no retry before {retry_on}, 3 banking days after the return"
        day += timedelta(days=1)
        advance(day)
    retry = (await soon(retried, "Ben's retry"))[0]
    assert retry["reinitiation_of"] == first_return["payment_id"] and retry["amount"] == first_return["amount"]
    assert retry["coverage_month"] == coverage_month
    retry_submitted = [
        s for s in await payments_events(ben, "PaymentSubmitted") if s["request_id"] == retry["request_id"]
    ]
    assert retry_submitted, "payments accepted the retry"

    advance(retry_on + timedelta(days=7))
    returns = await payments_events(ben, "PaymentReturned")
    assert len(returns) == 2, "the retry came back too"
    assert len([d for d in await drafts(ben) if d["coverage_month"] == coverage_month]) == 2, "retried once only"

    suspended = await soon(lambda: autopay_events(cleo, "AutopaySuspended"), "Cleo's suspension")
    assert suspended[0]["return_code"] == "R02"
    assert len([d for d in await drafts(cleo) if d["coverage_month"] == coverage_month]) == 1
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await mandate_of(http, cleo))["status"] == "suspended"
    headers = headers_of((await records_for("autopay.events", cleo.enrollment_id, "autopay.AutopaySuspended.v1"))[0])
    assert headers["ce_source"] == "/premiums/autopay" and headers["ce_subject"] == cleo.enrollment_id
