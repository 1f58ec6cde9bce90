"""Bank-account validation (R5.6, R5.7, D16): routing checksum and prefix, account number, account type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from stdnum.us import rtn

AccountType = Literal["checking", "savings"]

# R5.6: Federal Reserve routing symbols 00–12, thrift 21–32, electronic 61–72, traveler's checks 80.
_VALID_PREFIXES = {*range(0, 13), *range(21, 33), *range(61, 73), 80}
_ACCOUNT = re.compile(r"^[0-9]{4,17}$")
ACCEPTED_METHODS = "a checking or savings account (or, by mail, a check or money order)"


class InvalidBankAccount(ValueError):
    """The plain-language reason an account cannot be used; never contains the account number."""


@dataclass(frozen=True)
class BankAccount:
    routing_number: str
    account_number: str
    account_type: AccountType
    holder_name: str

    @property
    def last4(self) -> str:
        return self.account_number[-4:]


def normalize_account_number(raw: str) -> str:
    """R5.7: spaces and hyphens are stripped before validation."""
    return re.sub(r"[\s-]", "", raw)


def validate_routing_number(routing_number: str) -> str:
    """R5.6: nine digits, a valid ABA checksum, and a Federal Reserve prefix."""
    value = routing_number.strip()
    if not re.fullmatch(r"[0-9]{9}", value):
        raise InvalidBankAccount("The routing number must be exactly 9 digits.")
    if not rtn.is_valid(value):
        raise InvalidBankAccount("The routing number is not valid: please check the 9 digits on your check.")
    if int(value[:2]) not in _VALID_PREFIXES:
        raise InvalidBankAccount("The routing number does not belong to a US bank that accepts ACH debits.")
    return value


def validate_bank_account(routing_number: str, account_number: str, account_type: str, holder_name: str) -> BankAccount:
    routing = validate_routing_number(routing_number)
    number = normalize_account_number(account_number)
    if not _ACCOUNT.fullmatch(number):
        raise InvalidBankAccount("The account number must be 4 to 17 digits.")
    if account_type not in ("checking", "savings"):
        raise InvalidBankAccount("The account type must be checking or savings.")
    if not holder_name.strip():
        raise InvalidBankAccount("Enter the name on the bank account.")
    return BankAccount(routing, number, account_type, holder_name.strip())  # type: ignore[arg-type]


def refuse_non_bank_method(method_type: str) -> None:
    """D16/R4.1: cards and wallets are refused on every channel, naming what is accepted."""
    if method_type != "bank_account":
        raise InvalidBankAccount(
            f"We do not accept {method_type.replace('_', ' ')} payments. Premiums can be paid from {ACCEPTED_METHODS}."
        )
