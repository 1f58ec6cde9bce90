"""The NACHA file builder (DOMAIN §5.7), field by field: 94-character records, balanced controls, blocking 10."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from premiums_payments.adapters.nacha import Debit, Originator, build_file, entry_hash

ORIGIN = Originator(odfi_routing="011000015", company_name="MA HEALTH CONNECTR", company_id="1046000000")
CREATED = datetime(2027, 1, 21, 0, 5)
EFFECTIVE = date(2027, 1, 22)
WEB = Debit("011000015", "000123456789", "checking", Decimal("312.40"), "712345678", "Ana Rivera", "WEB")
WEB_SAVINGS = Debit(
    "021000021", "9876543210", "savings", Decimal("45.10"), "712345679", "Bo Chen", "WEB", payment_type="R"
)
TEL = Debit("091000019", "55551234", "checking", Decimal("100.00"), "712345680", "Cy Diaz", "TEL")
RETRY = Debit("026009593", "44440001", "checking", Decimal("80.00"), "712345681", "Di Evans", "WEB", "RETRY PYMT", "R")
PPD = Debit("011000028", "33332222", "savings", Decimal("12.34"), "712345682", "Ed Fox", "PPD", payment_type="R")
ALL = [WEB, WEB_SAVINGS, TEL, RETRY, PPD]


def field(line: str, start: int, end: int) -> str:
    """NACHA positions are 1-based and inclusive."""
    return line[start - 1 : end]


def lines() -> list[str]:
    return build_file(ORIGIN, ALL, CREATED, EFFECTIVE).lines


def test_every_record_is_94_characters_and_the_file_is_blocked_by_10_with_nines() -> None:
    built = lines()
    assert all(len(line) == 94 for line in built)
    assert len(built) % 10 == 0
    control = next(i for i, line in enumerate(built) if line.startswith("9") and line != "9" * 94)
    assert all(line == "9" * 94 for line in built[control + 1 :])
    assert [line[0] for line in built[: control + 1]] == ["1", *"568", *"568", *"5668", *"568", "9"]


def test_file_header_fields() -> None:
    header = lines()[0]
    assert field(header, 1, 1) == "1"
    assert field(header, 2, 3) == "01"
    assert field(header, 4, 13) == " 011000015"
    assert field(header, 14, 23) == " 046000000"
    assert field(header, 24, 29) == "270121"
    assert field(header, 30, 33) == "0005"
    assert field(header, 34, 34) == "A"
    assert field(header, 35, 37) == "094"
    assert field(header, 38, 39) == "10"
    assert field(header, 40, 40) == "1"
    assert field(header, 41, 63) == "FEDERAL RESERVE BANK".ljust(23)
    assert field(header, 64, 86) == "MA HEALTH CONNECTR".ljust(23)
    assert field(header, 87, 94) == " " * 8


def test_one_batch_per_sec_code_and_entry_description_with_its_header_fields() -> None:
    headers = [line for line in lines() if line.startswith("5")]
    assert [(field(h, 51, 53), field(h, 54, 63)) for h in headers] == [
        ("PPD", "HLTH PREM "),
        ("TEL", "HLTH PREM "),
        ("WEB", "HLTH PREM "),
        ("WEB", "RETRY PYMT"),
    ]
    first = headers[0]
    assert field(first, 2, 4) == "225"
    assert field(first, 5, 20) == "MA HEALTH CONNEC"
    assert field(first, 21, 40) == " " * 20
    assert field(first, 41, 50) == "1046000000"
    assert field(first, 64, 69) == " " * 6
    assert field(first, 70, 75) == "270122"
    assert field(first, 76, 78) == "   "
    assert field(first, 79, 79) == "1"
    assert field(first, 80, 87) == "01100001"
    assert [field(h, 88, 94) for h in headers] == ["0000001", "0000002", "0000003", "0000004"]


def test_entry_detail_fields() -> None:
    entries = [line for line in lines() if line.startswith("6")]
    web = next(e for e in entries if "ANA RIVERA" in e)
    assert field(web, 2, 3) == "27", "R5.9: checking debit"
    assert field(web, 4, 11) == "01100001"
    assert field(web, 12, 12) == "5"
    assert field(web, 13, 29) == "000123456789     "
    assert field(web, 30, 39) == "0000031240"
    assert field(web, 40, 54) == "712345678      "
    assert field(web, 55, 76) == "ANA RIVERA".ljust(22)
    assert field(web, 77, 78) == "S ", "R5.1: WEB payment type code"
    assert field(web, 79, 79) == "0"
    assert field(web, 80, 94)[:8] == "01100001"
    savings = next(e for e in entries if "BO CHEN" in e)
    assert field(savings, 2, 3) == "37", "R5.9: savings debit"
    assert field(savings, 77, 78) == "R "
    ppd = next(e for e in entries if "ED FOX" in e)
    assert field(ppd, 77, 78) == "  ", "PPD carries discretionary data, not a payment type"
    traces = [field(e, 80, 94) for e in entries]
    assert traces == sorted(traces) and len(set(traces)) == len(traces), "trace numbers ascend within the file"


def test_batch_controls_balance_their_entries() -> None:
    built = lines()
    batches: list[list[str]] = []
    for line in built:
        if line.startswith("5"):
            batches.append([])
        elif line.startswith("6"):
            batches[-1].append(line)
        elif line.startswith("8"):
            entries = batches[-1]
            assert field(line, 2, 4) == "225"
            assert int(field(line, 5, 10)) == len(entries)
            assert int(field(line, 11, 20)) == sum(int(field(e, 4, 11)) for e in entries)
            assert int(field(line, 21, 32)) == sum(int(field(e, 30, 39)) for e in entries)
            assert field(line, 33, 44) == "0" * 12
            assert field(line, 45, 54) == "1046000000"
            assert field(line, 55, 79) == " " * 25
            assert field(line, 80, 87) == "01100001"
            assert int(field(line, 88, 94)) == len(batches)


def test_file_control_totals_the_file() -> None:
    built = lines()
    control = next(line for line in built if line.startswith("9") and line != "9" * 94)
    assert int(field(control, 2, 7)) == 4
    assert int(field(control, 8, 13)) == len(built) // 10
    assert int(field(control, 14, 21)) == 5
    assert int(field(control, 22, 31)) == entry_hash(ALL) % 10**10
    assert int(field(control, 32, 43)) == 31240 + 4510 + 10000 + 8000 + 1234
    assert field(control, 44, 55) == "0" * 12
    assert field(control, 56, 94) == " " * 39


def test_the_entry_hash_keeps_the_low_order_ten_digits() -> None:
    many = [WEB] * 200  # 200 × 01100001 = 2,200,000,200: fits; 2,000 of them would not
    built = build_file(ORIGIN, many * 10, CREATED, EFFECTIVE).lines
    control = next(line for line in built if line.startswith("9") and line != "9" * 94)
    assert field(control, 22, 31) == str(1100001 * 2000)[-10:]


def test_an_empty_day_still_makes_a_valid_blocked_file() -> None:
    built = build_file(ORIGIN, [], CREATED, EFFECTIVE).lines
    assert len(built) == 10 and built[0].startswith("1") and built[1].startswith("9")
