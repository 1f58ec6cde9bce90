"""NACHA files (DOMAIN §5.7, ARCHITECTURE §5): a pure builder of 94-character records, and the gateway that
writes one file a business day to the outbound folder and reads the bank's return and NOC files from the
inbound one.

Full account numbers exist only while a file is built: they are decrypted from the vault into the entry
records and nowhere else (no event, log line or error carries them).
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import asyncpg
from premiums_common.banking_days import next_banking_day

from premiums_payments import repository as repo
from premiums_payments.adapters.bank_inbox import BankInbox
from premiums_payments.adapters.vault import Vault

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
DEBITS_ONLY = "225"
TRANSACTION_CODES = {"checking": "27", "savings": "37"}  # R5.9: debits


@dataclass(frozen=True)
class Originator:
    """Who sends the file; `PREMIUMS_ODFI_ROUTING` and friends override the sandbox defaults."""

    odfi_routing: str = "011000015"
    destination_name: str = "FEDERAL RESERVE BANK"
    company_name: str = "MA HEALTH CONNECTR"
    company_id: str = "1046000000"

    @classmethod
    def from_env(cls) -> Originator:
        env = os.environ
        return cls(
            odfi_routing=env.get("PREMIUMS_ODFI_ROUTING", cls.odfi_routing),
            company_id=env.get("PREMIUMS_ACH_COMPANY_ID", cls.company_id),
        )


@dataclass(frozen=True)
class Debit:
    routing_number: str
    account_number: str
    account_type: str
    amount: Decimal
    individual_id: str
    individual_name: str
    sec_code: str
    entry_description: str = "HLTH PREM"
    payment_type: str = "S"
    trace_sequence: int | None = None
    """Set by the gateway so traces stay unique across files (a return names its debit by trace alone)."""


@dataclass(frozen=True)
class NachaFile:
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def alpha(value: str, width: int) -> str:
    """Alphanumeric fields: upper case, left-justified, space-filled, cut to width."""
    return value.upper()[:width].ljust(width)


def numeric(value: int, width: int) -> str:
    """Numeric fields: right-justified, zero-filled; low-order digits kept (the entry hash rule)."""
    return str(value).rjust(width, "0")[-width:]


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def file_header(origin: Originator, created: datetime, modifier: str = "A") -> str:
    return (
        "1"
        + "01"
        + " "
        + origin.odfi_routing
        + " "
        + origin.company_id[-9:].rjust(9, "0")
        + created.strftime("%y%m%d")
        + created.strftime("%H%M")
        + modifier
        + "094"
        + "10"
        + "1"
        + alpha(origin.destination_name, 23)
        + alpha(origin.company_name, 23)
        + alpha("", 8)
    )


def batch_header(origin: Originator, sec_code: str, description: str, effective: date, number: int) -> str:
    return (
        "5"
        + DEBITS_ONLY
        + alpha(origin.company_name, 16)
        + alpha("", 20)
        + alpha(origin.company_id, 10)
        + sec_code
        + alpha(description, 10)
        + alpha("", 6)
        + effective.strftime("%y%m%d")
        + "   "
        + "1"
        + origin.odfi_routing[:8]
        + numeric(number, 7)
    )


def entry_detail(origin: Originator, debit: Debit, sequence: int) -> str:
    type_code = "  " if debit.sec_code == "PPD" else alpha(debit.payment_type, 2)  # R5.1: WEB/TEL S or R
    return (
        "6"
        + TRANSACTION_CODES[debit.account_type]
        + debit.routing_number[:8]
        + debit.routing_number[8]
        + alpha(debit.account_number, 17)
        + numeric(cents(debit.amount), 10)
        + alpha(debit.individual_id, 15)
        + alpha(debit.individual_name, 22)
        + type_code
        + "0"
        + trace_number(origin, sequence)
    )


def trace_number(origin: Originator, sequence: int) -> str:
    return origin.odfi_routing[:8] + numeric(sequence, 7)


def entry_hash(debits: Iterable[Debit]) -> int:
    """The sum of the 8-digit RDFI routing numbers (low-order 10 digits are written)."""
    return sum(int(d.routing_number[:8]) for d in debits)


@dataclass
class Totals:
    """What a batch or file control adds up, kept as entries go by."""

    entries: int = 0
    hash: int = 0
    cents: int = 0

    def add(self, debit: Debit) -> None:
        self.entries += 1
        self.hash += int(debit.routing_number[:8])
        self.cents += cents(debit.amount)


def batch_control(origin: Originator, totals: Totals, number: int) -> str:
    return (
        "8"
        + DEBITS_ONLY
        + numeric(totals.entries, 6)
        + numeric(totals.hash, 10)
        + numeric(totals.cents, 12)
        + numeric(0, 12)
        + alpha(origin.company_id, 10)
        + alpha("", 19)
        + alpha("", 6)
        + origin.odfi_routing[:8]
        + numeric(number, 7)
    )


def file_control(batches: int, lines_before: int, totals: Totals) -> str:
    blocks = math.ceil((lines_before + 1) / BLOCKING_FACTOR)
    return (
        "9"
        + numeric(batches, 6)
        + numeric(blocks, 6)
        + numeric(totals.entries, 8)
        + numeric(totals.hash, 10)
        + numeric(totals.cents, 12)
        + numeric(0, 12)
        + alpha("", 39)
    )


def batch_key(debit: Debit) -> tuple[str, str]:
    return debit.sec_code, debit.entry_description


class FileWriter:
    """The file's records as its entries come, handed to `emit` one by one: a file of any size takes the memory
    of the entries given at once, not of the file.

    One batch per (SEC code, entry description), WEB/PPD/TEL and `RETRY PYMT` reinitiations (R5.10): give the
    entries grouped by `batch_key`. Entries keep their order within a batch; each takes its `trace_sequence`,
    or its place in the file."""

    def __init__(self, origin: Originator, created: datetime, effective: date, emit: Callable[[str], None]) -> None:
        self.origin, self.effective, self._emit = origin, effective, emit
        self.records = self.batches = 0
        self.file = Totals()
        self._batch = Totals()
        self._key: tuple[str, str] | None = None
        self._put(file_header(origin, created))

    def add(self, debits: Iterable[Debit]) -> None:
        for debit in debits:
            if (key := batch_key(debit)) != self._key:
                self._close_batch()
                self.batches += 1
                self._key, self._batch = key, Totals()
                self._put(batch_header(self.origin, *key, self.effective, self.batches))
            self.file.add(debit)
            self._batch.add(debit)
            self._put(entry_detail(self.origin, debit, debit.trace_sequence or self.file.entries))

    def finish(self) -> None:
        """The last batch's control, the file control, and all-9 records to fill the last block of ten."""
        self._close_batch()
        self._put(file_control(self.batches, self.records, self.file))
        for _ in range((-self.records) % BLOCKING_FACTOR):
            self._put("9" * RECORD_LENGTH)

    def _close_batch(self) -> None:
        if self._key is not None:
            self._put(batch_control(self.origin, self._batch, self.batches))
            self._key = None

    def _put(self, record: str) -> None:
        assert len(record) == RECORD_LENGTH, "every NACHA record is 94 characters"
        self.records += 1
        self._emit(record)


def build_file(origin: Originator, debits: Sequence[Debit], created: datetime, effective: date) -> NachaFile:
    """The whole file in memory (`FileWriter` over the debits in batch order)."""
    lines: list[str] = []
    writer = FileWriter(origin, created, effective, lines.append)
    writer.add(sorted(debits, key=batch_key))
    writer.finish()
    return NachaFile(lines)


def _lines_to(out: TextIO) -> Callable[[str], None]:
    def emit(record: str) -> None:
        out.write(record)
        out.write("\n")

    return emit


class NachaGateway:
    """Writes each business day's accepted debits as one NACHA file when the business date advances, and reads
    the return and NOC files the bank dropped into the inbound folder (R5.9, R5.14)."""

    name = "nacha"

    def __init__(
        self,
        vault: Vault,
        outbound: Path,
        origin: Originator | None = None,
        inbound: Path | None = None,
        *,
        page: int = repo.FILE_PAGE,
    ) -> None:
        self.vault = vault
        self.page = page
        self.outbound = outbound
        self.origin = origin or Originator.from_env()
        self.inbox = BankInbox(vault, inbound or outbound.parent / "inbound")

    def validate_account(self, routing_number: str, account_last4: str) -> bool:
        return True  # R5.16: a production deployment plugs an account-validation service in here

    def _debit(self, row: Any) -> Debit:
        return Debit(
            routing_number=row["routing_number"],
            account_number=self.vault.decrypt(row["key_id"], row["account_ciphertext"], token=row["instrument_token"]),
            account_type=row["account_type"],
            amount=row["amount"],
            individual_id=row["billing_account"] or row["enrollment_id"],
            individual_name=row["holder_name"],
            sec_code=row["sec_code"] or "WEB",
            entry_description=row["entry_description"],
            payment_type=row["payment_type"],
        )

    async def send(self, con: asyncpg.Connection, business_date: date) -> None:
        """Every ACH debit accepted before `business_date` and not filed yet, into one file, a page of
        `page` entries at a time: each page's account numbers are decrypted, written and dropped."""
        name = f"premiums-{business_date:%Y%m%d}-{uuid.uuid4().hex[:8]}.ach"
        partial = self.outbound / (name + ".part")
        writer: FileWriter | None = None
        with contextlib.ExitStack() as files:
            async for rows in repo.debits_to_file(con, business_date, page=self.page):
                if writer is None:
                    self.outbound.mkdir(parents=True, exist_ok=True)
                    out = files.enter_context(partial.open("w", encoding="ascii"))
                    created = datetime.combine(business_date, datetime.min.time())
                    writer = FileWriter(self.origin, created, next_banking_day(business_date), _lines_to(out))
                # Sequences handed out in file order keep the traces ascending within each batch, as Nacha requires.
                paged = list(zip(rows, await repo.reserve_trace_sequences(con, len(rows)), strict=True))
                await repo.record_filed(con, name, [(r["payment_id"], trace_number(self.origin, s)) for r, s in paged])
                writer.add(replace(self._debit(r), trace_sequence=s) for r, s in paged)
            if writer is None:
                return
            writer.finish()
        partial.rename(self.outbound / name)

    async def receive(self, con: asyncpg.Connection, business_date: date, report_on: date) -> None:
        """The bank's files are read on the day they arrive: their reports are due on `business_date` itself."""
        await self.inbox.read(con, business_date)
