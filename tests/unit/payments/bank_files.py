"""What a bank sends back (DOMAIN §5.7): return (addenda 99) and NOC (addenda 98) files, written for the tests
from our own outbound entries with the project's NACHA field writers (`alpha`, `numeric`, `batch_header`,
`file_header`, `trace_number`); only the controls, which count addenda, are summed here.

A returned entry is the RDFI's copy of ours: transaction code 27→26 / 37→36 (return or NOC of a debit),
our ODFI as its receiving DFI, the addenda indicator set, and the RDFI's own trace. A NOC entry is the same
with a zero amount, in a `COR` batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from premiums_payments.adapters.nacha import Originator, alpha, batch_header, file_header, numeric, trace_number

OUR_ODFI = "011000015"
RDFI = Originator(odfi_routing="021000021", company_name="MA HEALTH CONNECTR", company_id="1046000000")
"""The returning bank as the batch header names it; company name and ID stay the original originator's."""
OPERATOR = Originator(
    odfi_routing=OUR_ODFI, destination_name="OUR ODFI", company_name="FEDERAL RESERVE BANK", company_id="0021000021"
)
"""The file header: sent to our ODFI (immediate destination) from the operator (immediate origin)."""
RETURN_CODES_OF_DEBITS = {"27": "26", "37": "36"}


def field(line: str, start: int, end: int) -> str:
    """NACHA positions are 1-based and inclusive."""
    return line[start - 1 : end]


@dataclass(frozen=True)
class Item:
    """One entry and its addenda, as the bank writes them (an entry without addenda is no return or NOC)."""

    entry: str
    addenda: str | None


def _entry(ours: str, sequence: int, *, amount: int | None = None) -> str:
    code = RETURN_CODES_OF_DEBITS[field(ours, 2, 3)]
    cents = int(field(ours, 30, 39)) if amount is None else amount
    return (
        "6"
        + code
        + OUR_ODFI
        + field(ours, 13, 29)
        + numeric(cents, 10)
        + field(ours, 40, 78)
        + "1"
        + trace_number(RDFI, sequence)
    )


def returned(
    ours: str, code: str, sequence: int, *, date_of_death: str = "", information: str = "", amount: int | None = None
) -> Item:
    """R5.9: addenda 99: code 4–6, original trace 7–21, date of death 22–27, original RDFI 28–35, info 36–79."""
    entry = _entry(ours, sequence, amount=amount)
    addenda = (
        "7"
        + "99"
        + alpha(code, 3)
        + field(ours, 80, 94)
        + alpha(date_of_death, 6)
        + field(ours, 4, 11)
        + alpha(information, 44)
        + field(entry, 80, 94)
    )
    return Item(entry, addenda)


def corrected(ours: str, code: str, corrected_data: str, sequence: int) -> Item:
    """R5.14: addenda 98: change code 4–6, original trace 7–21, original RDFI 28–35, corrected data 36–64."""
    entry = _entry(ours, sequence, amount=0)
    addenda = (
        "7"
        + "98"
        + alpha(code, 3)
        + field(ours, 80, 94)
        + alpha("", 6)
        + field(ours, 4, 11)
        + alpha(corrected_data, 29)
        + alpha("", 15)
        + field(entry, 80, 94)
    )
    return Item(entry, addenda)


@dataclass(frozen=True)
class Totals:
    count: int
    entry_hash: int
    debits: int

    @classmethod
    def of(cls, items: Sequence[Item]) -> Totals:
        return cls(
            count=sum(1 + (i.addenda is not None) for i in items),
            entry_hash=sum(int(field(i.entry, 4, 11)) for i in items),
            debits=sum(int(field(i.entry, 30, 39)) for i in items),
        )


def batch_control(items: Sequence[Item], number: int) -> str:
    totals = Totals.of(items)
    return (
        "8"
        + "225"
        + numeric(totals.count, 6)
        + numeric(totals.entry_hash, 10)
        + numeric(totals.debits, 12)
        + numeric(0, 12)
        + alpha(RDFI.company_id, 10)
        + alpha("", 25)
        + RDFI.odfi_routing[:8]
        + numeric(number, 7)
    )


def bank_file(batches: Sequence[tuple[str, Sequence[Item]]], created: datetime, effective: date) -> str:
    """Batches of (SEC code, items): `WEB`/`PPD`/`TEL` for returns, `COR` for NOCs; blocked by 10 with 9s."""
    lines = [file_header(OPERATOR, created)]
    every: list[Item] = []
    for number, (sec_code, items) in enumerate(batches, 1):
        lines.append(batch_header(RDFI, sec_code, "HLTH PREM", effective, number))
        for item in items:
            lines += [item.entry] if item.addenda is None else [item.entry, item.addenda]
        lines.append(batch_control(items, number))
        every += items
    totals = Totals.of(every)
    lines.append(
        "9"
        + numeric(len(batches), 6)
        + numeric(math.ceil((len(lines) + 1) / 10), 6)
        + numeric(totals.count, 8)
        + numeric(totals.entry_hash, 10)
        + numeric(totals.debits, 12)
        + numeric(0, 12)
        + alpha("", 39)
    )
    lines += ["9" * 94] * ((-len(lines)) % 10)
    return "\n".join(lines) + "\n"
