"""The inbound NACHA parser (DOMAIN §5.7): return files (addenda 99, R5.9) and NOC files (addenda 98, R5.14),
built here from our own outbound entries, read field by field; broken files are refused whole."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from premiums_payments.adapters.nacha import Debit, Originator, build_file
from premiums_payments.adapters.nacha_inbound import (
    ChangeNotice,
    MalformedNachaFile,
    ReturnedEntry,
    parse_bank_file,
    records_of,
)

from tests.unit.payments.bank_files import Item, bank_file, corrected, field, returned

ORIGIN = Originator(odfi_routing="011000015", company_name="MA HEALTH CONNECTR", company_id="1046000000")
ACCOUNTS = ["000123456789", "9876543210", "55551234", "44440001"]
DEBITS = [
    Debit("011000015", ACCOUNTS[0], "checking", Decimal("312.40"), "712345678", "Ana Rivera", "WEB", trace_sequence=41),
    Debit("021000021", ACCOUNTS[1], "savings", Decimal("45.10"), "712345679", "Bo Chen", "WEB", trace_sequence=42),
    Debit("091000019", ACCOUNTS[2], "checking", Decimal("100.00"), "712345680", "Cy Diaz", "TEL", trace_sequence=43),
    Debit("026009593", ACCOUNTS[3], "checking", Decimal("80.00"), "712345681", "Di Evans", "PPD", trace_sequence=44),
]
SENT_ON = datetime(2027, 1, 21, 0, 5)
RETURNED_ON = date(2027, 1, 25)


def our_entries() -> dict[str, str]:
    """Our outbound entry detail records, by account number."""
    entries = [line for line in build_file(ORIGIN, DEBITS, SENT_ON, date(2027, 1, 22)).lines if line[0] == "6"]
    return {field(e, 13, 29).strip(): e for e in entries}


def file_of(*batches: tuple[str, list[Item]]) -> str:
    return bank_file(list(batches), datetime(2027, 1, 25, 6, 0), RETURNED_ON)


def return_file() -> str:
    ours = our_entries()
    return file_of(
        (
            "WEB",
            [
                returned(ours[ACCOUNTS[0]], "R01", 1, information="NSF"),
                returned(ours[ACCOUNTS[1]], "R02", 2),
            ],
        ),
        ("PPD", [returned(ours[ACCOUNTS[3]], "R15", 3, date_of_death="261231")]),
    )


def noc_file() -> str:
    ours = our_entries()
    return file_of(
        (
            "COR",
            [
                corrected(ours[ACCOUNTS[0]], "C01", "1234567890123", 4),
                corrected(ours[ACCOUNTS[1]], "C03", "011000028   77771111", 5),
                corrected(ours[ACCOUNTS[2]], "C06", "55551235".ljust(21) + "37", 6),
            ],
        )
    )


def test_dom_5_7_the_written_bank_files_are_94_character_records_blocked_by_10_with_nines() -> None:
    for text in (return_file(), noc_file()):
        lines = text.splitlines()
        assert all(len(line) == 94 for line in lines) and len(lines) % 10 == 0
        control = max(i for i, line in enumerate(lines) if line[0] == "9" and line != "9" * 94)
        assert all(line == "9" * 94 for line in lines[control + 1 :])
        assert int(field(lines[control], 8, 13)) == len(lines) // 10


def test_r5_9_addenda_99_fields_sit_where_nacha_puts_them() -> None:
    lines = return_file().splitlines()
    ours = our_entries()[ACCOUNTS[0]]
    entry, addenda = lines[2], lines[3]
    assert field(entry, 1, 3) == "626", "a return of a checking debit"
    assert field(entry, 13, 29) == field(ours, 13, 29) and field(entry, 30, 39) == "0000031240"
    assert field(entry, 79, 79) == "1"
    assert field(addenda, 1, 3) == "799"
    assert field(addenda, 4, 6) == "R01"
    assert field(addenda, 7, 21) == field(ours, 80, 94) == "011000010000041"
    assert field(addenda, 22, 27) == " " * 6
    assert field(addenda, 28, 35) == "01100001"
    assert field(addenda, 36, 79).strip() == "NSF"
    assert field(addenda, 80, 94) == field(entry, 80, 94)


def test_r5_9_a_return_file_gives_each_return_with_code_original_trace_and_amount() -> None:
    parsed = parse_bank_file(return_file())
    assert parsed.problems == () and parsed.notices == ()
    assert [(r.return_code, r.original_trace, r.amount) for r in parsed.returns] == [
        ("R01", "011000010000041", Decimal("312.40")),
        ("R02", "011000010000042", Decimal("45.10")),
        ("R15", "011000010000044", Decimal("80.00")),
    ]
    first, _, death = parsed.returns
    assert first == ReturnedEntry(
        record=3,
        return_code="R01",
        original_trace="011000010000041",
        amount=Decimal("312.40"),
        trace_number="021000020000001",
        original_rdfi="01100001",
        date_of_death=None,
        information="NSF",
    )
    assert death.date_of_death == date(2026, 12, 31)


def test_r5_14_a_noc_file_gives_each_change_code_with_its_corrected_data() -> None:
    parsed = parse_bank_file(noc_file())
    assert parsed.problems == () and parsed.returns == ()
    assert [(n.change_code, n.original_trace, n.corrected_data.rstrip()) for n in parsed.notices] == [
        ("C01", "011000010000041", "1234567890123"),
        ("C03", "011000010000042", "011000028   77771111"),
        ("C06", "011000010000043", "55551235             37"),
    ]
    assert all(len(n.corrected_data) == 29 and n.original_rdfi for n in parsed.notices)


def test_r5_14_a_notice_never_shows_its_corrected_data_in_its_repr() -> None:
    notice = ChangeNotice(1, "C01", "011000010000041", "021000020000004", "01100001", "1234567890123".ljust(29))
    assert "1234567890123" not in repr(notice)


@pytest.mark.parametrize("ending", ["\r\n", ""])
def test_crlf_and_unbroken_files_read_the_same(ending: str) -> None:
    text = return_file()
    variant = ending.join(text.splitlines())
    assert parse_bank_file(variant) == parse_bank_file(text)


def test_records_that_lost_their_trailing_blanks_in_transfer_read_the_same() -> None:
    text = return_file()
    trimmed = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    assert trimmed != text and parse_bank_file(trimmed) == parse_bank_file(text)


def test_entries_that_are_neither_returns_nor_nocs_are_reported_and_the_others_still_count() -> None:
    ours = our_entries()
    bad_code = returned(ours[ACCOUNTS[1]], "X01", 8)
    bad_trace = returned(ours[ACCOUNTS[3]], "R03", 9)
    bad_trace = Item(bad_trace.entry, bad_trace.addenda[:6] + "01100001000004 " + bad_trace.addenda[21:])  # type: ignore[index]
    text = file_of(
        (
            "WEB",
            [
                Item(returned(ours[ACCOUNTS[2]], "R01", 7).entry, None),
                bad_code,
                returned(ours[ACCOUNTS[0]], "R01", 10),
                bad_trace,
            ],
        )
    )
    parsed = parse_bank_file(text)
    assert [r.return_code for r in parsed.returns] == ["R01"]
    assert parsed.problems == (
        "record 3: the entry carries no return (99) or NOC (98) addenda",
        "record 4: 'X01' is not a return reason code",
        "record 8: the original entry trace number is not 15 digits",
    )


def _broken(text: str, line: int, start: int, value: str) -> str:
    lines = text.splitlines()
    lines[line] = lines[line][: start - 1] + value + lines[line][start - 1 + len(value) :]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("breaking", "says"),
    [
        (lambda t: "", "empty"),
        (lambda t: t.replace("\n", "X\n", 1), "record 1 is 95 characters"),
        (lambda t: _broken(t, 2, 30, "0000031241"), "batch control total debits does not match"),
        (lambda t: _broken(t, 6, 11, "0000000001"), "batch control entry hash does not match"),
        (lambda t: _broken(t, 6, 5, "000009"), "batch control entry/addenda count does not match"),
        (lambda t: _broken(t, 11, 8, "000003"), "block count"),
        (lambda t: _broken(t, 11, 2, "000003"), "batch count"),
        (lambda t: _broken(t, 2, 30, "00000312AB"), r"the amount \(positions 30-39\) is not numeric"),
        (lambda t: _broken(t, 2, 2, "25"), "transaction code '25' is not a valid code"),
        (lambda t: _broken(t, 4, 1, "4"), "a type '4' record cannot come here"),
        (lambda t: _broken(t, 13, 1, "1"), "only all-9 padding records may follow"),
        (lambda t: "\n".join(t.splitlines()[:11]) + "\n", "no file control"),
        (lambda t: _broken(t, 0, 35, "095"), "not a file header"),
    ],
)
def test_a_file_whose_structure_or_controls_do_not_add_up_is_refused_whole_without_account_numbers(
    breaking: Callable[[str], str], says: str
) -> None:
    text = return_file()
    with pytest.raises(MalformedNachaFile, match=says) as refused:
        parse_bank_file(breaking(text))
    assert not any(account in str(refused.value) for account in ACCOUNTS)


def test_records_of_drops_trailing_blank_lines() -> None:
    assert len(records_of(return_file() + "\n\n")) == 20
