"""Notifications of Change (R5.14): what a change code means and how its corrected data changes an account.

The corrected data is the 29-character field of an addenda 98 record. Nacha lays it out per code (C03:
routing 1–9, account 13–29; C06: account 1–17, transaction code 22–23; C07: routing 1–9, account 10–26,
transaction code 27–28), but banks and tools pad it differently, so it is read by content: a routing
number is the first 9 digits, the other parts are separated by spaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from premiums_payments.domain.bank_account import BankAccount, InvalidBankAccount, validate_bank_account

CHANGE_CODES = {
    "C01": "incorrect account number",
    "C02": "incorrect routing number",
    "C03": "incorrect routing number and account number",
    "C04": "incorrect name on the account",
    "C05": "incorrect transaction code (checking or savings)",
    "C06": "incorrect account number and transaction code",
    "C07": "incorrect routing number, account number and transaction code",
    "C08": "incorrect receiving bank identification (international entries)",
    "C09": "incorrect individual identification number",
    "C10": "incorrect company name",
    "C11": "incorrect company identification",
    "C12": "incorrect company name and company identification",
    "C13": "addenda format error",
    "C14": "incorrect SEC code for an outbound international payment",
}
VAULT_CHANGES = frozenset({"C01", "C02", "C03", "C04", "C05", "C06", "C07"})
"""R5.14: the codes that correct the member's bank account; the others concern our own data and go to staff."""

AccountType = Literal["checking", "savings"]


class UnusableCorrection(ValueError):
    """A NOC that cannot be applied as sent; the message never contains the corrected data."""


@dataclass(frozen=True)
class Correction:
    routing_number: str | None = None
    account_number: str | None = field(default=None, repr=False)
    account_type: AccountType | None = None
    holder_name: str | None = field(default=None, repr=False)


def describe(change_code: str) -> str:
    return CHANGE_CODES.get(change_code, "an unknown change code")


def account_type_of(transaction_code: str) -> AccountType:
    """R5.9: 2x transaction codes post to checking, 3x to savings."""
    if len(transaction_code) == 2 and transaction_code[0] == "2" and transaction_code.isdigit():
        return "checking"
    if len(transaction_code) == 2 and transaction_code[0] == "3" and transaction_code.isdigit():
        return "savings"
    raise UnusableCorrection(f"the corrected transaction code {transaction_code!r} is not a checking or savings code")


def _routing_and_rest(data: str, code: str) -> tuple[str, str]:
    routing, rest = data[:9], data[9:]
    if not routing.isdigit():
        raise UnusableCorrection(f"{code} corrected data does not start with a 9-digit routing number")
    return routing, rest.strip()


def _parts(data: str, count: int, code: str) -> list[str]:
    parts = data.split()
    if len(parts) != count:
        raise UnusableCorrection(f"{code} corrected data should have {count} parts, not {len(parts)}")
    return parts


def read_corrected_data(change_code: str, corrected_data: str) -> Correction:
    """R5.14: the account fields a vault change code corrects, read from the addenda 98 corrected data."""
    data = corrected_data.strip()
    if not data:
        raise UnusableCorrection(f"{change_code} carries no corrected data")
    if change_code == "C01":
        return Correction(account_number=_parts(data, 1, change_code)[0])
    if change_code == "C02":
        return Correction(routing_number=_routing_and_rest(data, change_code)[0])
    if change_code == "C03":
        routing, account = _routing_and_rest(data, change_code)
        return Correction(routing_number=routing, account_number=_parts(account, 1, change_code)[0])
    if change_code == "C04":
        return Correction(holder_name=data[:22].strip())
    if change_code == "C05":
        return Correction(account_type=account_type_of(data[:2]))
    if change_code == "C06":
        account, transaction_code = _parts(data, 2, change_code)
        return Correction(account_number=account, account_type=account_type_of(transaction_code))
    if change_code == "C07":
        routing, rest = _routing_and_rest(data, change_code)
        account, transaction_code = _parts(rest, 2, change_code)
        return Correction(routing, account, account_type_of(transaction_code))
    raise UnusableCorrection(f"{change_code} ({describe(change_code)}) does not change the bank account")


def corrected_account(account: BankAccount, change_code: str, corrected_data: str) -> BankAccount:
    """R5.14: the account the next debit must use. The result passes the vault's own rules (R5.6, R5.7)."""
    correction = read_corrected_data(change_code, corrected_data)
    try:
        return validate_bank_account(
            correction.routing_number or account.routing_number,
            correction.account_number or account.account_number,
            correction.account_type or account.account_type,
            correction.holder_name or account.holder_name,
        )
    except InvalidBankAccount as exc:
        raise UnusableCorrection(f"{change_code} corrected data is not a usable account: {exc}") from exc
