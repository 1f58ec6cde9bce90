"""Inbound NACHA files (DOMAIN §5.7, R5.9, R5.14): returns (addenda 99) and NOCs (addenda 98), parsed purely.

A file whose structure or controls do not add up is refused whole (`MalformedNachaFile`): nothing in it is
trusted. Inside a sound file, an entry that is neither a return nor a NOC, or whose addenda is unreadable, is
reported in `problems` and the other entries still count. Problems and errors name record numbers, trace
numbers and codes, never an account number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

RECORD_LENGTH = 94
PADDING = "9" * RECORD_LENGTH
_RETURN_CODE = re.compile(r"^R[0-9]{2}$")
_CHANGE_CODE = re.compile(r"^C[0-9]{2}$")
_TRACE = re.compile(r"^[0-9]{15}$")


class MalformedNachaFile(ValueError):
    """The file cannot be trusted as a whole; the message says where, without any account number."""


@dataclass(frozen=True)
class ReturnedEntry:
    """R5.9: the bank returned one of our debits (addenda 99, positions per DOMAIN §5.7)."""

    record: int
    return_code: str
    original_trace: str
    amount: Decimal
    trace_number: str
    original_rdfi: str
    date_of_death: date | None
    information: str


@dataclass(frozen=True)
class ChangeNotice:
    """R5.14: the bank asks us to correct an account (addenda 98); corrected data may hold an account number."""

    record: int
    change_code: str
    original_trace: str
    trace_number: str
    original_rdfi: str
    corrected_data: str = field(repr=False)


@dataclass(frozen=True)
class BankFile:
    returns: tuple[ReturnedEntry, ...]
    notices: tuple[ChangeNotice, ...]
    problems: tuple[str, ...]


@dataclass
class _Entry:
    record: int
    line: str
    addenda: list[str] = field(default_factory=list)


@dataclass
class _Batch:
    record: int
    header: str
    entries: list[_Entry] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(1 + len(e.addenda) for e in self.entries)


def _pos(line: str, start: int, end: int) -> str:
    """NACHA positions are 1-based and inclusive."""
    return line[start - 1 : end]


def records_of(text: str) -> list[str]:
    """The 94-character records, whether the bank ended them with newlines (LF or CRLF) or not at all. A shorter
    record has lost its trailing blanks to a file-transfer tool and gets them back; a longer one is refused."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) == 1 and len(lines[0]) > RECORD_LENGTH and len(lines[0]) % RECORD_LENGTH == 0:
        lines = [lines[0][i : i + RECORD_LENGTH] for i in range(0, len(lines[0]), RECORD_LENGTH)]
    if not lines:
        raise MalformedNachaFile("the file is empty")
    for number, line in enumerate(lines, 1):
        if len(line) > RECORD_LENGTH:
            raise MalformedNachaFile(f"record {number} is {len(line)} characters long, not {RECORD_LENGTH}")
    return [line.ljust(RECORD_LENGTH) for line in lines]


def _number(line: str, start: int, end: int, record: int, what: str) -> int:
    value = _pos(line, start, end)
    if not value.isdigit():
        raise MalformedNachaFile(f"record {record}: {what} (positions {start}-{end}) is not numeric")
    return int(value)


def _is_debit(entry: _Entry) -> bool:
    """Transaction codes x6–x9 debit (x6: return or NOC of a debit), x1–x4 credit."""
    code = _pos(entry.line, 2, 3)
    if not code.isdigit() or code[1] in "05":
        raise MalformedNachaFile(f"record {entry.record}: transaction code {code!r} is not a valid code")
    return code[1] in "6789"


@dataclass
class _Totals:
    count: int = 0
    entry_hash: int = 0
    debits: int = 0
    credits: int = 0

    def add(self, entries: list[_Entry]) -> None:
        for entry in entries:
            amount = _number(entry.line, 30, 39, entry.record, "the amount")
            self.count += 1 + len(entry.addenda)
            self.entry_hash += _number(entry.line, 4, 11, entry.record, "the receiving DFI identification")
            if _is_debit(entry):
                self.debits += amount
            else:
                self.credits += amount

    def check(self, line: str, record: int, positions: tuple[tuple[int, int], ...], where: str) -> None:
        (count, hash_, debit, credit) = positions
        expected = {
            "entry/addenda count": (count, self.count),
            "entry hash": (hash_, self.entry_hash % 10**10),
            "total debits": (debit, self.debits),
            "total credits": (credit, self.credits),
        }
        for what, ((start, end), value) in expected.items():
            if _number(line, start, end, record, what) != value:
                raise MalformedNachaFile(f"record {record}: the {where} {what} does not match its entries")


def _structure(records: list[str]) -> list[_Batch]:
    """Batches in order, checked against their controls and the file control; padding after it only."""
    if records[0][0] != "1" or _pos(records[0], 35, 37) != "094":
        raise MalformedNachaFile("record 1 is not a file header for 94-character records")
    batches: list[_Batch] = []
    batch: _Batch | None = None
    file_totals = _Totals()
    for number, line in enumerate(records[1:], 2):
        kind = line[0]
        if kind == "5" and batch is None:
            batch = _Batch(number, line)
        elif kind == "6" and batch is not None:
            batch.entries.append(_Entry(number, line))
        elif kind == "7" and batch is not None and batch.entries:
            batch.entries[-1].addenda.append(line)
        elif kind == "8" and batch is not None:
            totals = _Totals()
            totals.add(batch.entries)
            totals.check(line, number, ((5, 10), (11, 20), (21, 32), (33, 44)), "batch control")
            if _pos(line, 88, 94) != _pos(batch.header, 88, 94):
                raise MalformedNachaFile(f"record {number}: the batch control closes another batch's number")
            file_totals.add(batch.entries)
            batches.append(batch)
            batch = None
        elif kind == "9" and batch is None and line != PADDING:
            _check_file_control(line, number, records, len(batches), file_totals)
            return batches
        else:
            raise MalformedNachaFile(f"record {number}: a type {kind!r} record cannot come here")
    raise MalformedNachaFile("the file has no file control record (type 9)")


def _check_file_control(line: str, number: int, records: list[str], batches: int, totals: _Totals) -> None:
    if any(r != PADDING for r in records[number:]):
        raise MalformedNachaFile(f"only all-9 padding records may follow the file control (record {number})")
    if _number(line, 2, 7, number, "the batch count") != batches:
        raise MalformedNachaFile(f"record {number}: the file control batch count does not match the batches")
    if _number(line, 8, 13, number, "the block count") != math.ceil(len(records) / 10):
        raise MalformedNachaFile(f"record {number}: the file control block count does not match the records")
    totals.check(line, number, ((14, 21), (22, 31), (32, 43), (44, 55)), "file control")


def _date_of_death(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%y%m%d").date() if value.strip() else None
    except ValueError:
        return None


def _returned(entry: _Entry, addenda: str) -> ReturnedEntry:
    return ReturnedEntry(
        record=entry.record,
        return_code=_pos(addenda, 4, 6),
        original_trace=_pos(addenda, 7, 21),
        amount=Decimal(_pos(entry.line, 30, 39)).scaleb(-2),
        trace_number=_pos(entry.line, 80, 94),
        original_rdfi=_pos(addenda, 28, 35),
        date_of_death=_date_of_death(_pos(addenda, 22, 27)),
        information=_pos(addenda, 36, 79).strip(),
    )


def _changed(entry: _Entry, addenda: str) -> ChangeNotice:
    return ChangeNotice(
        record=entry.record,
        change_code=_pos(addenda, 4, 6),
        original_trace=_pos(addenda, 7, 21),
        trace_number=_pos(entry.line, 80, 94),
        original_rdfi=_pos(addenda, 28, 35),
        corrected_data=_pos(addenda, 36, 64),
    )


class _EntryProblem(ValueError):
    """One entry cannot be read; the rest of the file still counts."""


def _read_entry(entry: _Entry) -> ReturnedEntry | ChangeNotice:
    addenda = next((a for a in entry.addenda if _pos(a, 2, 3) in ("98", "99")), None)
    if addenda is None:
        raise _EntryProblem(f"record {entry.record}: the entry carries no return (99) or NOC (98) addenda")
    is_return = _pos(addenda, 2, 3) == "99"
    code = _pos(addenda, 4, 6)
    if not (_RETURN_CODE if is_return else _CHANGE_CODE).match(code):
        kind = "return reason" if is_return else "change"
        raise _EntryProblem(f"record {entry.record}: {code!r} is not a {kind} code")
    if not _TRACE.match(_pos(addenda, 7, 21)):
        raise _EntryProblem(f"record {entry.record}: the original entry trace number is not 15 digits")
    return _returned(entry, addenda) if is_return else _changed(entry, addenda)


def parse_bank_file(text: str) -> BankFile:
    """R5.9/R5.14: every return and NOC of a bank file, and the problems of the entries that are neither."""
    returns: list[ReturnedEntry] = []
    notices: list[ChangeNotice] = []
    problems: list[str] = []
    for batch in _structure(records_of(text)):
        for entry in batch.entries:
            try:
                read = _read_entry(entry)
            except _EntryProblem as problem:
                problems.append(str(problem))
                continue
            if isinstance(read, ReturnedEntry):
                returns.append(read)
            else:
                notices.append(read)
    return BankFile(tuple(returns), tuple(notices), tuple(problems))
