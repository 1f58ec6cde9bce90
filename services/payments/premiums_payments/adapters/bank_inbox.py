"""The bank's inbound folder (ARCHITECTURE §5): return and NOC files, each read once, matched to our debits.

A file is known by its SHA-256 (`bank_files`), so the same file read twice, under any name, changes nothing.
Its returns and NOCs become `bank_reports` due that day, matched to the original debit by trace number; a
NOC's corrected data is sealed by the vault on the way in. A file is remembered in the transaction that reads
it and moved to `processed/` (or, if it was refused, `rejected/`, kept for staff) by a later read, once that
transaction has committed: a rollback never loses a file. A file that cannot be read at all is remembered as
refused without stopping the other files or the day. Nothing logged or stored carries an account number.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import asyncpg

from premiums_payments import repository as repo
from premiums_payments.adapters.nacha_inbound import BankFile, MalformedNachaFile, parse_bank_file
from premiums_payments.adapters.vault import Vault, correction_context

log = logging.getLogger(__name__)

READ, REJECTED = "read", "rejected"
FOLDERS = {READ: "processed", REJECTED: "rejected"}


@dataclass
class FileReading:
    """What one file gave: the reports to record and the problems staff must look at."""

    reports: list[repo.BankReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class BankInbox:
    def __init__(self, vault: Vault, folder: Path) -> None:
        self.vault = vault
        self.folder = folder

    def waiting(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        files = [p for p in self.folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        return sorted(p for p in files if p.suffix != ".part")

    async def read(self, con: asyncpg.Connection, business_date: date) -> None:
        for path in self.waiting():
            content = path.read_bytes()
            sha256 = hashlib.sha256(content).hexdigest()
            outcome = await repo.bank_file_outcome(con, sha256)
            if outcome is not None:
                self._file_away(path, outcome, sha256)
                continue
            try:
                async with con.transaction():  # a savepoint: one bad file never stops the others or the day
                    await self._read_file(con, path.name, sha256, content, business_date)
            except Exception as exc:  # recorded for staff by its type alone: its message might quote the file
                log.error("bank file could not be read", extra={"file": path.name, "error": type(exc).__name__})
                problem = f"the file could not be read ({type(exc).__name__}); it is kept for staff"
                await repo.remember_bank_file(con, sha256, path.name, business_date, REJECTED, 0, 0, [problem])

    async def _read_file(
        self, con: asyncpg.Connection, name: str, sha256: str, content: bytes, business_date: date
    ) -> None:
        try:
            parsed = parse_bank_file(content.decode("ascii"))
        except (MalformedNachaFile, UnicodeDecodeError) as exc:
            reason = str(exc) if isinstance(exc, MalformedNachaFile) else "the file is not ASCII text"
            log.error("bank file refused", extra={"file": name, "sha256": sha256, "reason": reason})
            await repo.remember_bank_file(con, sha256, name, business_date, REJECTED, 0, 0, [reason])
            return
        reading = await self._match(con, parsed)
        await repo.add_bank_reports(con, reading.reports, effective_on=business_date)
        for problem in reading.problems:
            log.warning("bank file entry not applied", extra={"file": name, "sha256": sha256, "problem": problem})
        returns = sum(r.kind == "return" for r in reading.reports)
        await repo.remember_bank_file(
            con, sha256, name, business_date, READ, returns, len(reading.reports) - returns, reading.problems
        )
        log.info("bank file read", extra={"file": name, "returns": returns, "problems": len(reading.problems)})

    async def _match(self, con: asyncpg.Connection, parsed: BankFile) -> FileReading:
        """R5.9/R5.14: each return or NOC names our debit by its original trace number."""
        traces = [r.original_trace for r in parsed.returns] + [n.original_trace for n in parsed.notices]
        debits = await repo.debits_by_trace(con, traces)
        reading = FileReading(problems=list(parsed.problems))
        for returned in parsed.returns:
            debit = debits.get(returned.original_trace)
            if debit is None:
                reading.problems.append(
                    not_ours(returned.record, f"{returned.return_code} return", returned.original_trace)
                )
            elif debit["amount"] != returned.amount:
                reading.problems.append(
                    f"record {returned.record}: {returned.return_code} return of trace {returned.original_trace} "
                    f"for {returned.amount}, but that debit was for {debit['amount']}"
                )
            else:
                reading.reports.append(repo.BankReport(debit["payment_id"], "return", returned.return_code))
        for notice in parsed.notices:
            debit = debits.get(notice.original_trace)
            if debit is None:
                reading.problems.append(not_ours(notice.record, f"{notice.change_code} NOC", notice.original_trace))
                continue
            sealed = self.vault.encrypt(notice.corrected_data, token=correction_context(debit["payment_id"]))
            reading.reports.append(repo.BankReport(debit["payment_id"], "noc", notice.change_code, sealed))
        return reading

    def _file_away(self, path: Path, outcome: str, sha256: str) -> None:
        """Banks often reuse a file name day after day: a name already filed away gets the digest appended.
        A file that cannot be moved stays where it is, known, and is tried again on the next read."""
        folder = self.folder / FOLDERS[outcome]
        target = folder / path.name
        try:
            folder.mkdir(exist_ok=True)
            path.rename(target if not target.exists() else folder / f"{path.name}.{sha256[:12]}")
        except OSError as exc:
            log.warning("bank file not moved", extra={"file": path.name, "error": type(exc).__name__})


def not_ours(record: int, what: str, trace: str) -> str:
    return f"record {record}: {what} of trace {trace}, which is no debit we sent"
