"""The bank behind payments (ARCHITECTURE §5): one interface, a sandbox and a NACHA implementation."""

from __future__ import annotations

from datetime import date
from typing import Protocol

import asyncpg


class BankGateway(Protocol):
    name: str

    def validate_account(self, routing_number: str, account_last4: str) -> bool:
        """R5.4: is the account open and able to take ACH debits?"""

    async def send(self, con: asyncpg.Connection, business_date: date) -> None:
        """Hand the bank the debits accepted before `business_date` (a NACHA file, or nothing)."""

    async def receive(self, con: asyncpg.Connection, business_date: date, report_on: date) -> None:
        """Record what the bank reports (returns, NOCs) into `bank_reports`: the sandbox's are due on `report_on`;
        what a real bank's files say is due on `business_date`, the day they were read."""
