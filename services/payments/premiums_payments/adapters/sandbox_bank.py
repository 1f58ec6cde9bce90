"""The sandbox bank (ARCHITECTURE §5): the account's last four digits choose what the bank does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from premiums_payments import repository as repo
from premiums_payments.adapters.vault import Vault, correction_context

RETURN_CODES = {
    "0001": "R01",
    "0002": "R02",
    "0003": "R03",
    "0004": "R04",
    "0007": "R07",
    "0008": "R08",
    "0009": "R09",
    "0010": "R10",
    "0016": "R16",
    "0020": "R20",
    "0029": "R29",
}
NOC_C01 = "0098"
FAILS_VALIDATION = "0099"


@dataclass(frozen=True)
class SandboxOutcome:
    validates: bool
    return_code: str | None
    noc_code: str | None


def outcome_for(account_last4: str) -> SandboxOutcome:
    return SandboxOutcome(
        validates=account_last4 != FAILS_VALIDATION,
        return_code=RETURN_CODES.get(account_last4),
        noc_code="C01" if account_last4 == NOC_C01 else None,
    )


def sandbox_correction(account_number: str) -> str:
    """R5.14: the sandbox's C01 corrected data (addenda 98, 29 characters): the account number as the bank
    keeps it, without leading zeros. The last four, which choose the sandbox's behaviour, stay the same."""
    stripped = account_number.lstrip("0")
    return (stripped if len(stripped) >= 4 else account_number).ljust(29)


class SandboxGateway:
    """Validates accounts instantly (R5.4, R5.16), settles every debit the next banking day, and returns
    (R5.9) or corrects (R5.14) the debits the table names one banking day after they cleared.

    A NOC carries corrected data sealed with the vault, so it is applied exactly as a NACHA file's would be;
    without a vault (unit tests of the table) the NOC is sent bare and staff would have to apply it."""

    name = "sandbox"

    def __init__(self, vault: Vault | None = None) -> None:
        self.vault = vault

    def validate_account(self, routing_number: str, account_last4: str) -> bool:
        return outcome_for(account_last4).validates

    async def send(self, con: asyncpg.Connection, business_date: date) -> None:
        return None

    async def receive(self, con: asyncpg.Connection, business_date: date, report_on: date) -> None:
        """Every debit that cleared today and whose account is in the table gets its report."""
        table = [(last4, "return", code) for last4, code in RETURN_CODES.items()]
        if self.vault is None:
            table.append((NOC_C01, "noc", "C01"))
        await repo.schedule_bank_reports(con, cleared_on=business_date, report_on=report_on, outcomes=table)
        if self.vault is not None:
            await self._send_notices(con, self.vault, business_date, report_on)

    async def _send_notices(self, con: asyncpg.Connection, vault: Vault, business_date: date, report_on: date) -> None:
        reports = []
        for row in await repo.cleared_debits_of_accounts_ending(con, business_date, NOC_C01):
            account = vault.decrypt(row["key_id"], row["account_ciphertext"], token=row["instrument_token"])
            corrected = sandbox_correction(account)
            sealed = vault.encrypt(corrected, token=correction_context(row["payment_id"]))
            reports.append(repo.BankReport(row["payment_id"], "noc", "C01", sealed))
        await repo.add_bank_reports(con, reports, effective_on=report_on)
