"""payments' channels end to end (issue 3), through HTTP and Kafka against the running stack.

Portal debits the sandbox returns (account ending 0001, R5.9) or corrects (0098, NOC C01, R5.14); guest
payments matched on member data with a lockout (R4.2); staff phone (TEL, R5.3) and mail (D1) payments;
cards refused on every channel (D16); Idempotency-Key on every channel (ARCHITECTURE §3).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from premiums_cli.demo import first_of_month_after_next, new_enrollment, submit_enrollment
from premiums_cli.token import token_for
from premiums_common.banking_days import next_banking_day
from premiums_contracts.events import EnrollmentSubmitted
from premiums_payments.domain.guest import DOES_NOT_MATCH

from tests.e2e.support import PAYMENTS, body_of, business_date, member_auth, one_record, premiums, records_for
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

ROUTING = "011000015"
CARD = {"type": "credit_card", "number": "4111111111111111", "expiry": "12/29"}


def bank(account_number: str, *, account_type: str = "checking") -> dict[str, str]:
    return {
        "type": "bank_account",
        "routing_number": ROUTING,
        "account_number": account_number,
        "account_type": account_type,
        "holder_name": "Ana Rivera",
    }


def staff_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for('staff-e2e', 'staff')}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def billed_enrollment(http: httpx.AsyncClient, premium: str = "312.40") -> EnrollmentSubmitted:
    """A fresh enrollment whose binder invoice payments has learned (preview answers)."""
    enrollment = new_enrollment(first_of_month_after_next(business_date()), premium=premium)
    await submit_enrollment(enrollment)

    async def payable() -> bool:
        body = {"enrollment_id": enrollment.enrollment_id, "amount": "1.00", "payment_method": bank("000123456789")}
        try:
            response = await http.post(f"{PAYMENTS}/v1/payments/preview", headers=member_auth(enrollment), json=body)
        except httpx.TransportError:
            # A keep-alive connection idle past uvicorn's 5 s can be closed just as a request goes out on it;
            # a preview changes nothing, so asking again is safe.
            return False
        return response.status_code == 200

    await eventually(payable, timeout=60, interval=0.25, what="payments to learn the invoice")
    return enrollment


async def portal_payment(http: httpx.AsyncClient, enrollment: EnrollmentSubmitted, account: str) -> dict[str, Any]:
    order = {"enrollment_id": enrollment.enrollment_id, "amount": "312.40", "payment_method": bank(account)}
    paid = await http.post(f"{PAYMENTS}/v1/payments", headers={**member_auth(enrollment), **key()}, json=order)
    assert paid.status_code == 201, paid.text
    return paid.json()  # type: ignore[no-any-return]


async def test_r5_9_account_0001_is_returned_r01_the_banking_day_after_clearing_and_0098_sends_noc_c01() -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        returned = await billed_enrollment(http)
        corrected = await billed_enrollment(http)
        nsf = await portal_payment(http, returned, "000555550001")
        noc = await portal_payment(http, corrected, "000555550098")
        assert nsf["binder"] is True and nsf["account_last4"] == "0001"

        cleared_on = date.fromisoformat(nsf["settles_on"])
        premiums("clock", "advance", "--to", cleared_on.isoformat(), "--wait")
        assert (
            body_of(await one_record("payments.events", returned.enrollment_id, "payments.PaymentCleared.v1"))[
                "cleared_on"
            ]
            == cleared_on.isoformat()
        )
        assert not await records_for("payments.events", returned.enrollment_id, "payments.PaymentReturned.v1")
        await one_record("payments.events", corrected.enrollment_id, "payments.PaymentCleared.v1")

        return_day = next_banking_day(cleared_on)
        premiums("clock", "advance", "--to", return_day.isoformat(), "--wait")
        event = body_of(await one_record("payments.events", returned.enrollment_id, "payments.PaymentReturned.v1"))
        assert event["payment_id"] == nsf["payment_id"]
        assert event["return_code"] == "R01" and event["returned_on"] == return_day.isoformat()
        assert "not have enough money" in event["return_reason"]
        assert event["retry_eligible"] is False, "D10: a binder is never retried, even after R01"
        assert event["amount"] == "312.40" and event["account_last4"] == "0001"
        view = (await http.get(f"{PAYMENTS}/v1/payments/{nsf['payment_id']}", headers=member_auth(returned))).json()
        assert view["status"] == "returned" and view["return_code"] == "R01"

        change = await one_record("payments.events", corrected.enrollment_id, "payments.BankAccountChanged.v1")
        assert body_of(change)["change_code"] == "C01"
        assert body_of(change)["account_last4"] == "0098"
        assert body_of(change)["enrollment_id"] == corrected.enrollment_id
        assert "000555550098" not in change.value.decode()
        assert not await records_for("payments.events", corrected.enrollment_id, "payments.PaymentReturned.v1")
        still = (await http.get(f"{PAYMENTS}/v1/payments/{noc['payment_id']}", headers=member_auth(corrected))).json()
        assert still["status"] == "cleared"


async def test_r4_2_guest_payment_matches_member_data_refuses_mismatches_in_ma_wording_and_locks_out_after_5() -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        enrollment = await billed_enrollment(http)
        who = {
            "member_id": enrollment.member_id,
            "date_of_birth": enrollment.member.date_of_birth.isoformat(),
            "zip": enrollment.member.zip,
        }
        order = {
            **who,
            "billing_account": enrollment.billing_account,
            "amount": "312.40",
            "payment_method": bank("000777771234"),
        }
        missing_key = await http.post(f"{PAYMENTS}/v1/guest/payments", json=order)
        assert missing_key.status_code == 400

        card = await http.post(f"{PAYMENTS}/v1/guest/payments", headers=key(), json={**order, "payment_method": CARD})
        assert card.status_code == 422 and "checking or savings" in card.json()["detail"]

        same = key()
        paid = await http.post(f"{PAYMENTS}/v1/guest/payments", headers=same, json=order)
        assert paid.status_code == 201, paid.text
        assert paid.json()["channel"] == "guest" and paid.json()["enrollment_id"] == enrollment.enrollment_id
        again = await http.post(f"{PAYMENTS}/v1/guest/payments", headers=same, json=order)
        assert again.status_code == 201 and again.json() == paid.json()
        other = await http.post(f"{PAYMENTS}/v1/guest/payments", headers=same, json={**order, "amount": "1.00"})
        assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
        submitted = await one_record("payments.events", enrollment.enrollment_id, "payments.PaymentSubmitted.v1")
        assert body_of(submitted)["channel"] == "guest"

        wrong = [
            {**order, "zip": "01001"},
            {**order, "date_of_birth": "1970-01-01"},
            {**order, "billing_account": "799999999"},
            {**{k: v for k, v in order.items() if k != "billing_account"}, "enrollment_id": "RefID1"},
            {**order, "zip": "99999"},
        ]
        for attempt in wrong:
            refused = await http.post(f"{PAYMENTS}/v1/guest/payments", headers=key(), json=attempt)
            assert refused.status_code == 422
            assert refused.json()["detail"] == DOES_NOT_MATCH, "never says which field did not match"
        locked = await http.post(f"{PAYMENTS}/v1/guest/payments", headers=key(), json={**order, "amount": "5.00"})
        assert locked.status_code == 429
        assert "paused for 24 hours" in locked.json()["detail"]
        assert len(await records_for("payments.events", enrollment.enrollment_id, "payments.PaymentSubmitted.v1")) == 1


async def test_r5_3_staff_phone_payment_is_tel_with_its_authorization_and_d1_mail_check_clears_after_deposit() -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        phoned = await billed_enrollment(http)
        mailed = await billed_enrollment(http)
        today = business_date()
        authorization = {
            "authorized_on": today.isoformat(),
            "amount": "312.40",
            "consumer_name": "Ana Rivera",
            "single_entry": True,
            "recording_reference": "CALL-2026-000123",
        }
        phone = {
            "channel": "phone",
            "enrollment_id": phoned.enrollment_id,
            "amount": "312.40",
            "payment_method": bank("000888881234", account_type="savings"),
            "authorization": authorization,
        }
        as_member = await http.post(
            f"{PAYMENTS}/v1/staff/payments", headers={**member_auth(phoned), **key()}, json=phone
        )
        assert as_member.status_code == 403
        unrecorded = {**authorization, "recording_reference": None}
        refused = await http.post(
            f"{PAYMENTS}/v1/staff/payments",
            headers={**staff_auth(), **key()},
            json={**phone, "authorization": unrecorded},
        )
        assert refused.status_code == 422 and "recording" in refused.json()["detail"]
        card = await http.post(
            f"{PAYMENTS}/v1/staff/payments", headers={**staff_auth(), **key()}, json={**phone, "payment_method": CARD}
        )
        assert card.status_code == 422 and "checking or savings" in card.json()["detail"]

        same = {**staff_auth(), **key()}
        paid = await http.post(f"{PAYMENTS}/v1/staff/payments", headers=same, json=phone)
        assert paid.status_code == 201, paid.text
        assert paid.json()["channel"] == "phone" and paid.json()["account_last4"] == "1234"
        assert (await http.post(f"{PAYMENTS}/v1/staff/payments", headers=same, json=phone)).json() == paid.json()
        changed = await http.post(f"{PAYMENTS}/v1/staff/payments", headers=same, json={**phone, "amount": "2.00"})
        assert changed.status_code == 422
        assert (
            body_of(await one_record("payments.events", phoned.enrollment_id, "payments.PaymentSubmitted.v1"))[
                "channel"
            ]
            == "phone"
        )

        mail = {
            "channel": "mail",
            "enrollment_id": mailed.enrollment_id,
            "amount": "312.40",
            "method": "check",
            "check_number": "1042",
            "received_on": today.isoformat(),
        }
        card_by_mail = await http.post(
            f"{PAYMENTS}/v1/staff/payments", headers={**staff_auth(), **key()}, json={**mail, "method": "credit_card"}
        )
        assert card_by_mail.status_code == 422 and "check or money order" in card_by_mail.json()["detail"]
        no_number = {k: v for k, v in mail.items() if k != "check_number"}
        assert (
            await http.post(f"{PAYMENTS}/v1/staff/payments", headers={**staff_auth(), **key()}, json=no_number)
        ).status_code == 422
        check = await http.post(f"{PAYMENTS}/v1/staff/payments", headers={**staff_auth(), **key()}, json=mail)
        assert check.status_code == 201, check.text
        assert check.json()["method"] == "check" and check.json()["account_last4"] is None
        assert check.json()["business_date"] == today.isoformat(), "D1: received on its deposit date"
        event = body_of(await one_record("payments.events", mailed.enrollment_id, "payments.PaymentSubmitted.v1"))
        assert event["channel"] == "mail" and event["method"] == "check"

        premiums("clock", "advance", "--to", check.json()["settles_on"], "--wait")
        await one_record("payments.events", mailed.enrollment_id, "payments.PaymentCleared.v1")
        await one_record("payments.events", phoned.enrollment_id, "payments.PaymentCleared.v1")


async def test_d16_r2_9_r1_5_invalid_payments_are_refused_in_plain_language_and_nothing_is_stored() -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        enrollment = await billed_enrollment(http)
        auth = {**member_auth(enrollment)}
        base = {"enrollment_id": enrollment.enrollment_id, "amount": "312.40", "payment_method": bank("000123454321")}
        cases = [
            ({**base, "payment_method": {"type": "debit_card", "number": "5555555555554444"}}, "checking or savings"),
            ({**base, "payment_method": {"type": "prepaid_card"}}, "checking or savings"),
            ({**base, "amount": "0.00"}, "more than $0.00"),
            ({**base, "amount": "-5.00"}, "more than $0.00"),
            ({**base, "amount": "10.005"}, "two decimals"),
            ({**base, "amount": "10000.01"}, "cannot be more than"),
            ({**base, "enrollment_id": [enrollment.enrollment_id, "RefID2"]}, "paid separately"),
        ]
        for body, words in cases:
            refused = await http.post(f"{PAYMENTS}/v1/payments", headers={**auth, **key()}, json=body)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert words in refused.json()["detail"], refused.json()
        unknown = await http.post(
            f"{PAYMENTS}/v1/payments", headers={**auth, **key()}, json={**base, "enrollment_id": "RefID0000000001"}
        )
        assert unknown.status_code == 404 and "could not find" in unknown.json()["detail"]
        listed = await http.get(
            f"{PAYMENTS}/v1/payments", params={"enrollment_id": enrollment.enrollment_id}, headers=auth
        )
        assert listed.json() == []
        assert not await records_for("payments.events", enrollment.enrollment_id, "payments.PaymentSubmitted.v1")


async def test_r4_8_a_check_nobody_can_match_waits_unapplied_until_staff_apply_it() -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        enrollment = await billed_enrollment(http)
        today = business_date()
        mail = {
            "channel": "mail",
            "billing_account": f"7{uuid.uuid4().int % 10**8:08d}",
            "amount": "312.40",
            "method": "money_order",
            "received_on": today.isoformat(),
        }
        held = await http.post(f"{PAYMENTS}/v1/staff/payments", headers={**staff_auth(), **key()}, json=mail)
        assert held.status_code == 201, held.text
        assert held.json()["status"] == "unapplied" and held.json()["enrollment_id"] is None
        assert "Billing Account Number" in held.json()["unapplied_reason"]
        payment_id = held.json()["payment_id"]
        unapplied = await one_record("payments.events", payment_id, "payments.PaymentUnapplied.v1")
        assert body_of(unapplied)["amount"] == "312.40"

        forbidden = await http.get(f"{PAYMENTS}/v1/staff/unapplied", headers=member_auth(enrollment))
        assert forbidden.status_code == 403
        queue = (await http.get(f"{PAYMENTS}/v1/staff/unapplied", headers=staff_auth())).json()
        assert payment_id in [p["payment_id"] for p in queue]

        same = {**staff_auth(), **key()}
        apply = {"enrollment_id": enrollment.enrollment_id}
        applied = await http.post(f"{PAYMENTS}/v1/staff/unapplied/{payment_id}/apply", headers=same, json=apply)
        assert applied.status_code == 201, applied.text
        assert applied.json()["status"] == "accepted" and applied.json()["enrollment_id"] == enrollment.enrollment_id
        again = await http.post(f"{PAYMENTS}/v1/staff/unapplied/{payment_id}/apply", headers=same, json=apply)
        assert again.json() == applied.json()
        submitted = await one_record("payments.events", enrollment.enrollment_id, "payments.PaymentSubmitted.v1")
        assert body_of(submitted)["payment_id"] == payment_id and body_of(submitted)["method"] == "money_order"
        queue = (await http.get(f"{PAYMENTS}/v1/staff/unapplied", headers=staff_auth())).json()
        assert payment_id not in [p["payment_id"] for p in queue]


async def test_requests_racing_with_one_idempotency_key_pay_once_and_get_the_same_answer() -> None:
    """ARCHITECTURE §3: eight requests with one key sent at once (a client retrying before its first answer)
    make one payment; each gets the first request's response. A key used by another member is theirs alone."""
    async with httpx.AsyncClient(timeout=30) as http:
        enrollment = await billed_enrollment(http)
        order = {"enrollment_id": enrollment.enrollment_id, "amount": "312.40", "payment_method": bank("000123454321")}
        headers = {**member_auth(enrollment), **key()}
        answers = await asyncio.gather(
            *(http.post(f"{PAYMENTS}/v1/payments", headers=headers, json=order) for _ in range(8))
        )
        assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
        assert len({a.json()["payment_id"] for a in answers}) == 1, "one payment, one answer"
        listed = await http.get(
            f"{PAYMENTS}/v1/payments",
            params={"enrollment_id": enrollment.enrollment_id},
            headers=member_auth(enrollment),
        )
        assert [p["payment_id"] for p in listed.json()] == [answers[0].json()["payment_id"]]

        other = await billed_enrollment(http)
        theirs = {**member_auth(other), "Idempotency-Key": headers["Idempotency-Key"]}
        order_of_other = {**order, "enrollment_id": other.enrollment_id}
        paid = await http.post(f"{PAYMENTS}/v1/payments", headers=theirs, json=order_of_other)
        assert paid.status_code == 201 and paid.json()["payment_id"] != answers[0].json()["payment_id"]
