"""The NACHA gateway hears the bank (R5.9, R5.10, R5.14, D10) against a real database: debits filed on
Wednesday come back on Thursday as a return file (R01, R02) and a NOC file (C01); each becomes the same events
the sandbox gives, through the outbox, once; the NOC corrects the vault for the next debit."""

from __future__ import annotations

import json
import logging
import random
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from premiums_common import outbox
from premiums_payments import repository as repo
from premiums_payments.adapters.nacha import NachaGateway, Originator
from premiums_payments.adapters.vault import Vault
from premiums_payments.domain.bank_account import validate_bank_account
from premiums_payments.domain.returns import return_reason
from premiums_payments.handlers import PaymentOrder, Payments

from tests.integration.payments.test_bank_and_channels import billed
from tests.integration.support import collected
from tests.unit.payments.bank_files import bank_file, corrected, field, returned

pytestmark = pytest.mark.integration

ACCEPTED_ON = date(2031, 5, 6)  # a Tuesday, far from the other tests' dates
FILED_ON = date(2031, 5, 7)  # the file is cut, the debits clear
READ_ON = date(2031, 5, 8)  # the bank's files arrive
NEXT_DAY = date(2031, 5, 9)
MONDAY = date(2031, 5, 12)
NSF, CLOSED, MOVED, FINE = "000111122223", "000222233334", "000333344445", "000444455556"
CORRECTED = "98765432101"
EVERY_ACCOUNT = (NSF, CLOSED, MOVED, FINE, CORRECTED)


@pytest.fixture
def nacha(payments: Payments, vault: Vault, tmp_path: Path) -> Payments:
    gateway = NachaGateway(vault, tmp_path / "outbound", Originator(), inbound=tmp_path / "inbound")
    return Payments(payments.service, vault, gateway)


async def pay(payments: Payments, con: asyncpg.Connection, account: str) -> Any:
    member_id = f"{random.randrange(10**11, 10**12)}"
    bank = validate_bank_account("011000015", account, "checking", "Ana Rivera")
    token = (await payments.vault_account(con, member_id, bank))["instrument_token"]
    return await pay_from(payments, con, token, member_id)


async def pay_from(payments: Payments, con: asyncpg.Connection, token: str, member_id: str) -> Any:
    enrollment_id, _ = await billed(con, binder=False, member_id=member_id, due=date(2031, 5, 23))
    row, _ = await payments.accept(
        con, PaymentOrder(enrollment_id, member_id, Decimal("312.40"), "portal", "WEB", token)
    )
    return row


def entries_by_account(folder: Path) -> dict[str, str]:
    [sent] = sorted(folder.glob("*.ach"), key=lambda p: p.stat().st_mtime)[-1:]
    return {field(e, 13, 29).strip(): e for e in sent.read_text().splitlines() if e[0] == "6"}


async def published(con: asyncpg.Connection, caused: list[outbox.Outgoing]) -> list[tuple[str, dict[str, Any]]]:
    """Write the day's events as the daily job does, then read them back from the outbox table."""
    await outbox.add(con, caused)
    rows = await con.fetch(
        "SELECT headers, payload FROM outbox WHERE ce_id = ANY($1::uuid[]) ORDER BY id",
        [o.envelope.id for o in caused],
    )
    events = []
    for row in rows:
        headers = dict(json.loads(row["headers"]) if isinstance(row["headers"], str) else row["headers"])
        events.append((headers["ce_type"], json.loads(row["payload"])))
    return events


async def vaulted(con: asyncpg.Connection, vault: Vault, token: str) -> tuple[str, Any]:
    row = await con.fetchrow("SELECT * FROM bank_accounts WHERE instrument_token = $1", token)
    return vault.decrypt(row["key_id"], row["account_ciphertext"], token=token), row


def no_account_number_in(records: list[logging.LogRecord]) -> bool:
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    return not any(account in text for account in EVERY_ACCOUNT)


async def test_r5_9_r5_10_r5_14_d10_return_and_noc_files_become_events_statuses_and_a_vault_correction_once(
    con: asyncpg.Connection, nacha: Payments, vault: Vault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    nacha.service.clock.observe(ACCEPTED_ON)
    nsf, closed, moved, fine = [await pay(nacha, con, account) for account in (NSF, CLOSED, MOVED, FINE)]
    await collected(nacha.settle(con, FILED_ON))
    ours = entries_by_account(tmp_path / "outbound")
    for payment, account in ((nsf, NSF), (closed, CLOSED), (moved, MOVED), (fine, FINE)):
        stored = await repo.payment(con, payment["payment_id"])
        assert stored["status"] == "cleared" and stored["trace_number"] == field(ours[account], 80, 94)

    inbound = tmp_path / "inbound"
    inbound.mkdir()
    at = datetime(2031, 5, 8, 6, 0)
    returns = bank_file([("WEB", [returned(ours[NSF], "R01", 1), returned(ours[CLOSED], "R02", 2)])], at, READ_ON)
    (inbound / "RETURNS.ACH").write_text(returns)
    (inbound / "RETURNS-AGAIN.ACH").write_text(returns)  # the same file twice, under another name
    (inbound / "NOC.ACH").write_text(bank_file([("COR", [corrected(ours[MOVED], "C01", CORRECTED, 3)])], at, READ_ON))
    stranger = ours[FINE][:79] + "011000019999999"  # a trace we never sent
    (inbound / "STRANGER.ACH").write_text(bank_file([("WEB", [returned(stranger, "R01", 4)])], at, READ_ON))
    (inbound / "BROKEN.ACH").write_text(returns.replace("0000031240", "0000031249", 1))  # controls no longer add up

    events = await published(con, await collected(nacha.settle(con, READ_ON)))

    by_enrollment = {body["enrollment_id"]: (kind, body) for kind, body in events}
    assert len(events) == 3 == len(by_enrollment)
    kind, body = by_enrollment[nsf["enrollment_id"]]
    assert kind == "payments.PaymentReturned.v1"
    assert (body["payment_id"], body["return_code"], body["returned_on"]) == (nsf["payment_id"], "R01", "2031-05-08")
    assert body["return_reason"] == return_reason("R01") and body["retry_eligible"] is True, "D10: R01 is retried"
    assert body["amount"] == "312.40" and body["account_last4"] == "2223"
    kind, body = by_enrollment[closed["enrollment_id"]]
    assert (kind, body["return_code"], body["retry_eligible"]) == ("payments.PaymentReturned.v1", "R02", False)
    kind, body = by_enrollment[moved["enrollment_id"]]
    assert kind == "payments.BankAccountChanged.v1"
    assert body == {
        "instrument_token": moved["instrument_token"],
        "enrollment_id": moved["enrollment_id"],
        "change_code": "C01",
        "account_last4": "2101",
        "account_type": "checking",
    }
    assert not any(account in json.dumps(events) for account in EVERY_ACCOUNT)

    statuses = [(await repo.payment(con, p["payment_id"]))["status"] for p in (nsf, closed, moved, fine)]
    assert statuses == ["returned", "returned", "cleared", "cleared"]
    number, row = await vaulted(con, vault, moved["instrument_token"])
    assert (number, row["account_last4"], row["corrected_by"], row["corrected_on"]) == (
        CORRECTED,
        "2101",
        "C01",
        READ_ON,
    )

    files = {r["file_name"]: r for r in await repo.bank_files(con, READ_ON)}
    assert sorted(files) == ["BROKEN.ACH", "NOC.ACH", "RETURNS-AGAIN.ACH", "STRANGER.ACH"], "RETURNS.ACH: known"
    assert (files["RETURNS-AGAIN.ACH"]["outcome"], files["RETURNS-AGAIN.ACH"]["returns"]) == ("read", 2)
    assert files["BROKEN.ACH"]["outcome"] == "rejected"
    assert "total debits does not match" in json.loads(files["BROKEN.ACH"]["problems"])[0]
    assert (files["NOC.ACH"]["outcome"], files["NOC.ACH"]["notices"]) == ("read", 1)
    [unknown] = json.loads(files["STRANGER.ACH"]["problems"])
    assert "trace 011000019999999, which is no debit we sent" in unknown
    assert no_account_number_in(caplog.records)

    # The next day the same files are still there, and the bank returns both debits again (one under a new code).
    sealed = row["account_ciphertext"]
    later = datetime(2031, 5, 9, 6, 0)
    duplicates = [returned(ours[NSF], "R01", 9), returned(ours[CLOSED], "R03", 10)]
    (inbound / "RETURNS-2.ACH").write_text(bank_file([("WEB", duplicates)], later, NEXT_DAY))
    again = await published(con, await collected(nacha.settle(con, NEXT_DAY)))
    assert again == [], "nothing read twice, no payment returned twice"
    assert (await vaulted(con, vault, moved["instrument_token"]))[1]["account_ciphertext"] == sealed
    assert [(await repo.payment(con, p["payment_id"]))["status"] for p in (nsf, closed, moved, fine)] == statuses
    assert (await repo.payment(con, closed["payment_id"]))["return_code"] == "R02", "returned once, as first reported"
    assert sorted(p.name for p in (inbound / "processed").iterdir()) == [
        "NOC.ACH",
        "RETURNS-AGAIN.ACH",
        "RETURNS.ACH",
        "STRANGER.ACH",
    ]
    assert [p.name for p in (inbound / "rejected").iterdir()] == ["BROKEN.ACH"], "kept for staff"

    # R5.14: the next debit from that account goes out with the corrected number.
    nacha.service.clock.observe(NEXT_DAY)
    await pay_from(nacha, con, moved["instrument_token"], moved["member_id"])
    await collected(nacha.settle(con, MONDAY))
    assert CORRECTED in entries_by_account(tmp_path / "outbound")
    assert no_account_number_in(caplog.records)


async def test_r5_9_a_file_that_cannot_be_read_at_all_is_kept_for_staff_and_the_others_are_still_read(
    con: asyncpg.Connection, nacha: Payments, tmp_path: Path
) -> None:
    nacha.service.clock.observe(ACCEPTED_ON)
    payment = await pay(nacha, con, NSF)
    await collected(nacha.settle(con, FILED_ON))
    ours = entries_by_account(tmp_path / "outbound")
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    (inbound / "A-NOT-TEXT.ACH").write_bytes(b"\xff\xfe" + b"1" * 200)
    (inbound / "B-RETURNS.ACH").write_text(
        bank_file([("WEB", [returned(ours[NSF], "R09", 1)])], datetime(2031, 5, 8, 6), READ_ON)
    )
    events = await published(con, await collected(nacha.settle(con, READ_ON)))
    assert [(kind, body["payment_id"], body["return_code"]) for kind, body in events] == [
        ("payments.PaymentReturned.v1", payment["payment_id"], "R09")
    ]
    files = {r["file_name"]: r for r in await repo.bank_files(con, READ_ON)}
    assert files["A-NOT-TEXT.ACH"]["outcome"] == "rejected"
    assert json.loads(files["A-NOT-TEXT.ACH"]["problems"]) == ["the file is not ASCII text"]
