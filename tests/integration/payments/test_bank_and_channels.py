"""payments against a real database: the sandbox bank's returns and NOCs, closed enrollments, guest identity,
the idempotency purge and the NACHA gateway (issue 3)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from premiums_common.banking_days import next_banking_day
from premiums_common.consumer import Incoming
from premiums_contracts import Envelope, Event
from premiums_contracts.events import (
    BankAccountChanged,
    CoverageReinstated,
    CoverageTerminated,
    EnrollmentCancelledNoBinder,
    EnrollmentSubmitted,
    InvoiceIssued,
    MemberContact,
    MemberContactChanged,
    PaymentCleared,
    PaymentReturned,
)
from premiums_payments import repository as repo
from premiums_payments.adapters.nacha import NachaGateway, Originator
from premiums_payments.adapters.nacha_inbound import parse_bank_file
from premiums_payments.domain.bank_account import InvalidBankAccount, validate_bank_account
from premiums_payments.domain.guest import GuestClaim
from premiums_payments.handlers import PaymentOrder, PaymentRefused, Payments

from tests.integration.support import collected

pytestmark = pytest.mark.integration

ACCEPTED_ON = date(2031, 3, 4)  # a Tuesday, far from any other test's dates
CLEARS_ON = date(2031, 3, 5)
RETURNED_ON = date(2031, 3, 6)


def incoming(event: Event, key: str, at: datetime | None = None) -> Incoming:
    envelope = Envelope(type=event.ce_type(), source="/tests", subject=key, time=at or datetime.now(UTC))
    return Incoming(envelope, event, event.topic, 0, 0, key, None)


async def billed(
    con: asyncpg.Connection, *, binder: bool, member_id: str | None = None, due: date = date(2031, 3, 23)
) -> tuple[str, str]:
    """An enrollment whose bill payments has learned (from coverage's InvoiceIssued), due on `due`."""
    enrollment_id = f"RefID{random.randrange(10**9, 10**10)}"
    member_id = member_id or f"{random.randrange(10**11, 10**12)}"
    invoice = InvoiceIssued(
        invoice_id=f"inv_{uuid.uuid4().hex}",
        enrollment_id=enrollment_id,
        member_id=member_id,
        coverage_month=f"{due.year + due.month // 12}-{due.month % 12 + 1:02d}",
        due_date=due,
        amount_due=Decimal("312.40"),
        past_due=Decimal("0.00"),
        total_due=Decimal("312.40"),
        binder=binder,
        billing_account=f"7{random.randrange(10**7, 10**8)}",
    )
    await repo.upsert_dues(con, invoice)
    return enrollment_id, member_id


async def pay(
    payments: Payments, con: asyncpg.Connection, account: str, *, binder: bool = True, on: date = ACCEPTED_ON
) -> dict[str, Any]:
    enrollment_id, member_id = await billed(con, binder=binder)
    payments.service.clock.observe(on)
    vaulted = await payments.vault_account(
        con, member_id, validate_bank_account("011000015", account, "checking", "Ana Rivera")
    )
    order = PaymentOrder(enrollment_id, member_id, Decimal("312.40"), "portal", "WEB", vaulted["instrument_token"])
    row, _ = await payments.accept(con, order)
    return row


def of_type(caused: list[Any], kind: type[Event], payment_or_enrollment: str) -> list[Any]:
    return [
        o.event
        for o in caused
        if isinstance(o.event, kind)
        and payment_or_enrollment in (getattr(o.event, "payment_id", None), getattr(o.event, "enrollment_id", None))
    ]


async def test_r5_9_an_r01_binder_is_returned_once_the_banking_day_after_it_cleared_even_if_reported_twice(
    con: asyncpg.Connection, payments: Payments
) -> None:
    payment = await pay(payments, con, "000555550001")
    assert payment["settles_on"] == CLEARS_ON and payment["binder"] is True
    cleared = await collected(payments.settle(con, CLEARS_ON))
    assert len(of_type(cleared, PaymentCleared, payment["payment_id"])) == 1
    assert not of_type(cleared, PaymentReturned, payment["payment_id"])
    # DOMAIN §7.3: the bank sends the same return again (an R67-style duplicate).
    await repo.add_bank_report(con, payment["payment_id"], "return", "R01", RETURNED_ON)

    returned = of_type(await collected(payments.settle(con, RETURNED_ON)), PaymentReturned, payment["payment_id"])
    assert len(returned) == 1
    event = returned[0]
    assert (event.return_code, event.returned_on, event.retry_eligible) == ("R01", RETURNED_ON, False)
    assert event.binder is True and event.account_last4 == "0001" and event.amount == Decimal("312.40")
    assert "not have enough money" in event.return_reason

    await repo.add_bank_report(con, payment["payment_id"], "return", "R01", RETURNED_ON)
    later = await collected(payments.settle(con, next_banking_day(RETURNED_ON)))
    assert not of_type(later, PaymentReturned, payment["payment_id"]), "a late duplicate changes nothing"
    stored = await repo.payment(con, payment["payment_id"])
    assert (stored["status"], stored["return_code"], stored["returned_on"]) == ("returned", "R01", RETURNED_ON)


async def test_d10_an_r09_monthly_payment_is_retry_eligible(con: asyncpg.Connection, payments: Payments) -> None:
    payment = await pay(payments, con, "000555550009", binder=False)
    await collected(payments.settle(con, CLEARS_ON))
    [event] = of_type(await collected(payments.settle(con, RETURNED_ON)), PaymentReturned, payment["payment_id"])
    assert event.return_code == "R09" and event.retry_eligible is True and event.binder is False


async def test_a_debit_accepted_on_friday_clears_monday_and_returns_tuesday(
    con: asyncpg.Connection, payments: Payments
) -> None:
    friday = date(2031, 3, 7)
    payment = await pay(payments, con, "000555550002", on=friday)
    assert payment["settles_on"] == date(2031, 3, 10)
    for day in (date(2031, 3, 8), date(2031, 3, 9)):
        assert not of_type(await collected(payments.settle(con, day)), PaymentCleared, payment["payment_id"])
    await collected(payments.settle(con, date(2031, 3, 10)))
    [event] = of_type(await collected(payments.settle(con, date(2031, 3, 11))), PaymentReturned, payment["payment_id"])
    assert event.return_code == "R02" and event.returned_on == date(2031, 3, 11)


async def test_r5_14_account_0098_clears_then_sends_noc_c01_once_and_the_vault_takes_the_correction(
    con: asyncpg.Connection, payments: Payments
) -> None:
    payment = await pay(payments, con, "000555550098")
    await collected(payments.settle(con, CLEARS_ON))
    await repo.add_bank_report(con, payment["payment_id"], "noc", "C01", RETURNED_ON)  # a bare duplicate
    caused = await collected(payments.settle(con, RETURNED_ON))
    changes = of_type(caused, BankAccountChanged, payment["enrollment_id"])
    assert len(changes) == 1
    assert changes[0].change_code == "C01" and changes[0].account_last4 == "0098"
    assert changes[0].instrument_token == payment["instrument_token"]
    assert not of_type(caused, PaymentReturned, payment["payment_id"])
    assert (await repo.payment(con, payment["payment_id"]))["status"] == "cleared"
    # The sandbox's C01 names the account without its leading zeros; the token stays, the ciphertext is new.
    stored = await repo.vault_row_for_update(con, payment["instrument_token"])
    token = payment["instrument_token"]
    assert payments.vault.decrypt(stored["key_id"], stored["account_ciphertext"], token=token) == "555550098"


async def test_r5_4_account_0099_fails_validation_and_is_not_vaulted(
    con: asyncpg.Connection, payments: Payments
) -> None:
    with pytest.raises(InvalidBankAccount, match="could not validate"):
        await payments.vault_account(
            con, "123456789012", validate_bank_account("011000015", "000555550099", "checking", "Ana Rivera")
        )


@pytest.mark.parametrize(
    ("event_type", "words"),
    [(EnrollmentCancelledNoBinder, "was cancelled"), (CoverageTerminated, "has ended")],
)
async def test_coverage_cancelled_or_terminated_enrollments_refuse_new_payments_until_reinstated(
    con: asyncpg.Connection, payments: Payments, event_type: type[Event], words: str
) -> None:
    enrollment_id, member_id = await billed(con, binder=True)
    if event_type is EnrollmentCancelledNoBinder:
        closing: Event = EnrollmentCancelledNoBinder(
            enrollment_id=enrollment_id, member_id=member_id, coverage_start=date(2031, 4, 1), reason="no binder"
        )
        await payments.enrollment_cancelled(con, incoming(closing, enrollment_id))
    else:
        closing = CoverageTerminated(
            enrollment_id=enrollment_id,
            member_id=member_id,
            end_date=date(2031, 3, 31),
            reason="non-payment",
            reinstate_by=date(2031, 5, 5),
        )
        await payments.coverage_terminated(con, incoming(closing, enrollment_id))
    with pytest.raises(PaymentRefused, match=words) as refused:
        await payments.quote(con, enrollment_id, member_id)
    assert refused.value.status == 409
    reinstated = CoverageReinstated(enrollment_id=enrollment_id, member_id=member_id, paid_through=date(2031, 5, 31))
    await payments.coverage_reinstated(con, incoming(reinstated, enrollment_id))
    assert (await payments.quote(con, enrollment_id, member_id))["enrollment_id"] == enrollment_id


async def test_r4_2_guest_identity_comes_from_enrollment_events_and_an_older_contact_change_does_not_win(
    con: asyncpg.Connection, payments: Payments
) -> None:
    member = MemberContact(first_name="Ana", last_name="Rivera", date_of_birth=date(1988, 4, 2), zip="02114")
    enrollment_id = f"RefID{random.randrange(10**9, 10**10)}"
    member_id = f"{random.randrange(10**11, 10**12)}"
    submitted = EnrollmentSubmitted(
        enrollment_id=enrollment_id,
        member_id=member_id,
        billing_account="712340000",
        product="dental",
        plan_id="D1",
        plan_name="Dental",
        coverage_start=date(2031, 4, 1),
        coverage_end=date(2031, 12, 31),
        monthly_premium=Decimal("30.00"),
        aptc_amount=Decimal("0.00"),
        subsidy="none",
        member=member,
    )
    now = datetime.now(UTC)
    await payments.enrollment_submitted(con, incoming(submitted, enrollment_id, now))
    stale = MemberContactChanged(member_id=member_id, member=member.model_copy(update={"zip": "01001"}))
    await payments.member_contact_changed(con, incoming(stale, member_id, now - timedelta(hours=1)))
    claim = GuestClaim(member_id, date(1988, 4, 2), "02114", None, "712340000")
    assert await payments.guest_matches(con, claim)
    assert await payments.guest_enrollment(con, claim) == enrollment_id

    moved = MemberContactChanged(member_id=member_id, member=member.model_copy(update={"zip": "01001"}))
    await payments.member_contact_changed(con, incoming(moved, member_id, now + timedelta(hours=1)))
    assert not await payments.guest_matches(con, claim)
    assert await payments.guest_matches(con, GuestClaim(member_id, date(1988, 4, 2), "01001", enrollment_id, None))


async def test_r4_2_five_recorded_mismatches_within_24_hours_lock_the_member_id(
    con: asyncpg.Connection, payments: Payments
) -> None:
    member_id = f"{random.randrange(10**11, 10**12)}"
    payments.service.clock.observe(ACCEPTED_ON)
    for _ in range(4):
        await payments.record_guest_mismatch(con, member_id)
    assert not await payments.guest_locked_out(con, member_id)
    await payments.record_guest_mismatch(con, member_id)
    assert await payments.guest_locked_out(con, member_id)
    payments.service.clock.observe(ACCEPTED_ON + timedelta(days=2))
    assert not await payments.guest_locked_out(con, member_id), "the lock lasts 24 hours"


async def test_idempotency_keys_older_than_120_days_are_purged_by_the_daily_job(
    con: asyncpg.Connection, payments: Payments
) -> None:
    today = date(2031, 8, 1)
    for name, recorded in (("old", today - timedelta(days=121)), ("kept", today - timedelta(days=120))):
        assert await repo.claim_idempotency_key(con, "it-purge", name, "h", recorded)
        await repo.store_idempotent_response(con, "it-purge", name, 201, "{}")
    await payments.purge_idempotency_keys(con, today)
    assert await repo.idempotent_response(con, "it-purge", "old") is None
    assert await repo.idempotent_response(con, "it-purge", "kept") is not None


async def test_mail_check_is_received_on_its_deposit_date_and_clears_the_next_banking_day(
    con: asyncpg.Connection, payments: Payments
) -> None:
    enrollment_id, _ = await billed(con, binder=False)
    payments.service.clock.observe(date(2031, 3, 10))
    order = PaymentOrder(
        enrollment_id,
        None,
        Decimal("50.00"),
        "mail",
        None,
        method="check",
        check_number="1042",
        received_on=date(2031, 3, 7),
    )
    row, caused = await payments.accept(con, order)
    assert row["business_date"] == date(2031, 3, 7) and row["settles_on"] == date(2031, 3, 10)
    submitted: Any = caused[0].event
    assert submitted.method == "check" and submitted.account_last4 is None
    cleared = of_type(await collected(payments.settle(con, date(2031, 3, 10))), PaymentCleared, row["payment_id"])
    assert len(cleared) == 1
    await collected(payments.settle(con, date(2031, 3, 11)))
    assert (await repo.payment(con, row["payment_id"]))["status"] == "cleared", "checks are not returned here"


async def test_nacha_gateway_files_the_previous_days_debits_once_with_the_account_number_from_the_vault(
    con: asyncpg.Connection, payments: Payments, tmp_path: Path
) -> None:
    accepted_on = date(2031, 3, 12)
    payment = await pay(payments, con, "000123454321", on=accepted_on)
    gateway = NachaGateway(payments.vault, tmp_path / "outbound", Originator())
    await gateway.send(con, accepted_on)
    assert not (tmp_path / "outbound").exists(), "nothing accepted before that day: no file"
    await gateway.send(con, next_banking_day(accepted_on))
    files = list((tmp_path / "outbound").glob("*.ach"))
    assert len(files) == 1
    lines = files[0].read_text().splitlines()
    assert all(len(line) == 94 for line in lines) and len(lines) % 10 == 0
    entries = [line for line in lines if line.startswith("6")]
    ours = [e for e in entries if e[12:29] == "000123454321".ljust(17)]
    assert len(ours) == 1 and ours[0][29:39] == "0000031240"
    stored = await repo.payment(con, payment["payment_id"])
    assert stored["nacha_file"] == files[0].name
    await gateway.send(con, next_banking_day(next_banking_day(accepted_on)))
    assert len(list((tmp_path / "outbound").glob("*.ach"))) == 1, "a debit goes into one file only"


async def test_r4_8_a_check_for_a_closed_enrollment_waits_unapplied_until_staff_apply_it_to_an_open_one(
    con: asyncpg.Connection, payments: Payments
) -> None:
    closed, member_id = await billed(con, binder=True)
    closing = EnrollmentCancelledNoBinder(
        enrollment_id=closed, member_id=member_id, coverage_start=date(2031, 4, 1), reason="no binder"
    )
    await payments.enrollment_cancelled(con, incoming(closing, closed))
    match = await payments.match_mail(con, closed, None, None)
    assert match.enrollment_id is None
    payments.service.clock.observe(date(2031, 3, 10))
    held, caused = await payments.hold_unapplied(
        con,
        amount=Decimal("312.40"),
        method="money_order",
        check_number=None,
        received_on=date(2031, 3, 9),
        reason=str(match.reason),
        enrollment_id=closed,
    )
    unapplied: Any = caused[0].event
    assert unapplied.reason == "The Enrollment ID on the payment matches no open enrollment."
    assert held["payment_id"] in [r["payment_id"] for r in await repo.unapplied_payments(con)]
    assert not of_type(await collected(payments.settle(con, date(2031, 3, 10))), PaymentCleared, held["payment_id"])

    reopened, _ = await billed(con, binder=False)
    applied, submitted = await payments.apply_unapplied(con, held["payment_id"], reopened, "staff-7")
    assert (applied["status"], applied["enrollment_id"], applied["applied_by"]) == ("accepted", reopened, "staff-7")
    resubmitted: Any = submitted[0].event
    assert resubmitted.channel == "mail" and resubmitted.method == "money_order"
    assert of_type(await collected(payments.settle(con, date(2031, 3, 11))), PaymentCleared, held["payment_id"])
    with pytest.raises(PaymentRefused, match="no unapplied payment"):
        await payments.apply_unapplied(con, held["payment_id"], reopened, "staff-7")


async def test_the_settlement_day_clears_every_due_debit_once_a_page_at_a_time_in_settlement_order(
    con: asyncpg.Connection, payments: Payments
) -> None:
    """ARCHITECTURE §5/§7: a day clears in pages, so its memory is one page; a debit whose settlement date passed
    while the clock stood still clears with the first day after it, in (settles_on, payment_id) order."""
    accepted = [await pay(payments, con, "000444550001", on=day) for day in (ACCEPTED_ON, CLEARS_ON) for _ in (1, 2, 3)]
    due = sorted((p["settles_on"], p["payment_id"]) for p in accepted)
    pages: list[list[str]] = []
    after: repo.SettlePage | None = None
    while True:
        rows, after = await repo.settle_due(con, date(2031, 3, 10), after=after, limit=2)
        if after is None:
            break
        pages.append([r["payment_id"] for r in rows])
        assert (after.settles_on, after.payment_id) == due[2 * len(pages) - 1]  # where the page ended
    assert [len(page) for page in pages] == [2, 2, 2]
    assert sorted(p for page in pages for p in page) == sorted(p for _, p in due)
    assert {r["status"] for r in await con.fetch("SELECT status FROM payments")} == {"cleared"}
    assert await repo.settle_due(con, date(2031, 3, 10)) == ([], None)  # nothing clears twice


async def test_the_nacha_file_is_written_a_page_at_a_time_and_adds_up_as_one_file(
    con: asyncpg.Connection, payments: Payments, tmp_path: Path
) -> None:
    """A day's file is built from pages of debits (memory for a page, not the day) and is still one valid file:
    its batch and file controls add up, each debit is in it once, and the traces ascend in file order."""
    accepted_on = date(2031, 3, 13)
    accepted = [await pay(payments, con, f"00012345{n:04d}", on=accepted_on) for n in range(1, 6)]
    gateway = NachaGateway(payments.vault, tmp_path / "outbound", Originator(), page=2)
    await gateway.send(con, next_banking_day(accepted_on))
    [filed] = list((tmp_path / "outbound").glob("*.ach"))
    text = filed.read_text()
    parse_bank_file(text)  # refuses a file whose structure or controls do not add up
    entries = [line for line in text.splitlines() if line.startswith("6")]
    assert sorted(e[12:29].strip() for e in entries) == [f"00012345{n:04d}" for n in range(1, 6)]
    traces = [e[79:94] for e in entries]
    assert traces == sorted(traces) and len(set(traces)) == 5
    stored = [await repo.payment(con, p["payment_id"]) for p in accepted]
    assert {s["nacha_file"] for s in stored} == {filed.name}
    assert sorted(s["trace_number"] for s in stored) == traces
