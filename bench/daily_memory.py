"""Memory and time of the big daily jobs for N enrollments (issue 8), each on a fresh database: coverage's
bill day (`monthly_bill`, Dec 1: every enrollment billed for January) and first day of the unpaid month
(`delinquency`, Jan 1: nobody paid, so every account gets its first delinquency notice, R2.7), and
notifications' reminder run five days before the due date (`send_reminders`, Dec 18: every bill open, N5/D13),
autopay's draft day (`draft_day_job`, Dec 22: every member on AutoPay drafted for January, D9/R4.4), and
payments' settlement (`settle`, Dec 23: every debit accepted on the 22nd clears, ARCHITECTURE §5).

Run from the project root with the local stack's PostgreSQL up:
    .venv/bin/python -m bench.daily_memory 100000 [coverage] [reminders] [drafts] [settlement] [nacha] [--no-heap]
For each job: the events it put in the outbox (for the reminder run, the notices it queued), the Python heap's
peak while it ran (tracemalloc, which also slows it: `--no-heap` leaves it off, for times and RSS alone) and
the process's peak RSS so far. A job's events go to the outbox as the runtime puts them there
(`run_daily`).
"""

from __future__ import annotations

import asyncio
import base64
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
from premiums_autopay.handlers import Autopay
from premiums_common.clock import BusinessClock
from premiums_common.service import DailyJob, run_daily
from premiums_notifications.handlers import send_reminders
from premiums_payments.adapters.nacha import NachaGateway, Originator
from premiums_payments.adapters.sandbox_bank import SandboxGateway
from premiums_payments.adapters.vault import Vault
from premiums_payments.handlers import Payments

from tests.integration.coverage.world import World
from tests.integration.support import service_database

OUTBOX_EVENTS = "WITH gone AS (DELETE FROM outbox RETURNING 1) SELECT count(*) FROM gone"
HEAP = "--no-heap" not in sys.argv


async def _measure(pool: asyncpg.Pool, name: str, job: DailyJob, day: date, count: str = OUTBOX_EVENTS) -> None:
    if HEAP:
        tracemalloc.start()
    started = time.perf_counter()
    async with pool.acquire() as con, con.transaction():
        await run_daily(con, job, day)
        events = await con.fetchval(count)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    heap = f"Python heap peak {peak / 2**20:.1f} MB" if HEAP else "Python heap not traced"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name} ({day}): {events:,} events in {seconds:.1f} s; {heap}, process peak RSS so far {rss:.1f} MB",
        flush=True,
    )


async def coverage_days(members: int) -> None:
    async with service_database("premiums_coverage", max_size=2) as pool:
        await pool.execute(
            """
            INSERT INTO enrollments (enrollment_id, member_id, billing_account, product, plan_id, plan_name,
                subsidy, coverage_start, coverage_end, monthly_premium, aptc_amount, binder_due_date, status)
            SELECT 'E' || lpad(g::text, 9, '0'), lpad(g::text, 12, '0'), lpad(g::text, 9, '0'), 'health', 'P1',
                   'Bench Plan', 'none', date '2026-01-01', date '2027-12-31', 50 + g % 400, 0, date '2025-12-23',
                   'active'
            FROM generate_series(1, $1) g
            """,
            members,
        )
        daily = World(pool).daily
        print(
            f"{members:,} active enrollments; process RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB",
            flush=True,
        )
        await _measure(pool, "bill day", daily.monthly_bill, date(2026, 12, 1))
        await _measure(pool, "delinquency", daily.delinquency, date(2027, 1, 1))


async def reminder_day(members: int) -> None:
    async with service_database("premiums_notifications", max_size=2) as pool:
        await pool.execute(
            """
            INSERT INTO members (member_id, first_name, last_name, email, language)
            SELECT lpad(g::text, 12, '0'), 'Ana', 'Rivera', 'member' || g || '@example.org', 'en'
            FROM generate_series(1, $1) g
            """,
            members,
        )
        await pool.execute(
            """
            INSERT INTO bills (enrollment_id, coverage_month, member_id, due_date, total_due, binder)
            SELECT 'E' || lpad(g::text, 9, '0'), '2027-01', lpad(g::text, 12, '0'), date '2026-12-23', 50 + g % 400,
                   false
            FROM generate_series(1, $1) g
            """,
            members,
        )
        await pool.execute("ANALYZE")  # bills arrive over weeks in real life: autovacuum has seen them by the 18th
        await _measure(
            pool,
            "reminders",
            send_reminders,
            date(2026, 12, 18),
            "SELECT count(*) FROM notifications WHERE kind = 'N5'",
        )


async def draft_day(members: int) -> None:
    async with service_database("premiums_autopay", max_size=2) as pool:
        await pool.execute(
            """
            INSERT INTO billing_state (enrollment_id, member_id, coverage_month, due_date, total_due, status, binder,
                draft_on)
            SELECT 'E' || lpad(g::text, 9, '0'), lpad(g::text, 12, '0'), '2027-01', date '2026-12-23', 50 + g % 400,
                   'active', false, date '2026-12-22'
            FROM generate_series(1, $1) g
            """,
            members,
        )
        await pool.execute(
            """
            INSERT INTO mandates (mandate_id, enrollment_id, member_id, instrument_token, account_last4, channel,
                sec_code, payment_type, status, draft_day)
            SELECT 'mdt_' || md5(g::text), 'E' || lpad(g::text, 9, '0'), lpad(g::text, 12, '0'), 'tok_' || md5(g::text),
                   '4321', 'portal', 'WEB', 'R', 'active', 22
            FROM generate_series(1, $1) g
            """,
            members,
        )
        await pool.execute("ANALYZE")
        clock = BusinessClock("simulated")
        clock.observe(date(2026, 12, 22))
        await _measure(pool, "draft day", Autopay("/premiums/bench", clock, 22).draft_day_job, date(2026, 12, 22))


async def settlement_day(members: int, nacha: bool = False) -> None:
    """Every debit accepted on the 22nd clears on the 23rd; with `nacha`, the day first files them with the bank
    as a NACHA file (the production gateway: each account number decrypted from the vault)."""
    vault = Vault(base64.urlsafe_b64encode(os.urandom(32)).decode())
    async with service_database("premiums_payments", max_size=2) as pool:
        if nacha:
            await pool.copy_records_to_table(
                "bank_accounts",
                columns=[
                    "instrument_token",
                    "member_id",
                    "routing_number",
                    "account_ciphertext",
                    "key_id",
                    "account_last4",
                    "account_type",
                    "holder_name",
                    "validated_at",
                ],
                records=[_vaulted(vault, g) for g in range(1, members + 1)],
            )
        await pool.execute(
            """
            INSERT INTO payments (payment_id, confirmation_number, enrollment_id, member_id, amount, channel, method,
                sec_code, account_last4, coverage_month, received_at, business_date, settles_on, status, binder,
                instrument_token)
            SELECT 'pay_' || md5(g::text), 'C' || lpad(g::text, 11, '0'), 'E' || lpad(g::text, 9, '0'),
                   lpad(g::text, 12, '0'), 50 + g % 400, 'autopay', 'ach_debit', 'WEB', '4321', '2027-01',
                   timestamptz '2026-12-22 09:00-05', date '2026-12-22', date '2026-12-23', 'accepted', false,
                   CASE WHEN $2 THEN 'tok_' || g END
            FROM generate_series(1, $1) g
            """,
            members,
            nacha,
        )
        await pool.execute("ANALYZE")
        clock = BusinessClock("simulated")
        clock.observe(date(2026, 12, 23))
        service = SimpleNamespace(source="/premiums/bench", clock=clock)
        with tempfile.TemporaryDirectory() as folder:
            gateway = NachaGateway(vault, Path(folder) / "outbound", Originator()) if nacha else SandboxGateway()
            payments = Payments(service, vault, gateway)  # type: ignore[arg-type]
            name = "settlement with a NACHA file" if nacha else "settlement"
            await _measure(pool, name, payments.settle, date(2026, 12, 23))


def _vaulted(vault: Vault, g: int) -> tuple[Any, ...]:
    token = f"tok_{g}"
    key_id, sealed = vault.encrypt(f"{g:012d}", token=token)
    return (token, f"{g:012d}", "011000015", sealed, key_id, "4321", "checking", "Ana Rivera", datetime.now(UTC))


async def main(members: int, jobs: list[str]) -> None:
    if "coverage" in jobs:
        await coverage_days(members)
    if "reminders" in jobs:
        await reminder_day(members)
    if "drafts" in jobs:
        await draft_day(members)
    if "settlement" in jobs:
        await settlement_day(members)
    if "nacha" in jobs:
        await settlement_day(members, nacha=True)


if __name__ == "__main__":
    jobs = [a for a in sys.argv[2:] if a != "--no-heap"] or ["coverage", "reminders", "drafts", "settlement"]
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, jobs))
