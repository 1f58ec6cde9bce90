"""The month cycle: N members through one simulated billing month, everything through Kafka.

Setup (not timed): N renewals for the month after next, a mix of subsidies (none, APTC, ConnectorCare),
products (health, dental) and premiums, are published and known to coverage.
Timed, part 1, the bill day (the 1st): coverage bills every member, notifications emails each bill, payments
and AutoPay learn the amounts.
Not timed: a share of the members set up AutoPay through the autopay API (saving a bank account first, as a
member does after reading the bill), and a share pay their bill at the portal.
Timed, part 2, the rest of the month up to the coverage month's 1st: deadline reminders, AutoPay drafts on the
22nd, clearing, coverage applying every payment, confirmation notices, delinquency on the 24th for members who
did not pay and their past-due warnings on the 1st.
The bill day bills every member the system has, not only this run's: `month_cycle_members` is that count
(the month's real size) and `month_cycle_new_members` the renewals this run added.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from premiums_contracts.events import EnrollmentSubmitted

from premiums_cli import clock, idle
from premiums_cli.bench.measure import PHASE_CPU, progress, say
from premiums_cli.bench.payments_flow import portal, publish_enrollments, wait_for_rows
from premiums_cli.demo import AUTOPAY, PAYMENTS, first_of_month_after_next, new_enrollment
from premiums_cli.token import token_for

SUBSIDIES = (("none", "0.00"), ("aptc", "420.00"), ("connectorcare", "510.00"))


def mixed_renewal(index: int, start: date, rng: random.Random) -> EnrollmentSubmitted:
    subsidy, aptc = SUBSIDIES[index % len(SUBSIDIES)]
    dental = index % 10 == 9
    premium = Decimal(rng.randrange(2500, 6000) if dental else rng.randrange(5000, 45000)) / 100
    base = new_enrollment(start, premium=str(premium), language="es" if index % 7 == 0 else "en")
    return base.model_copy(
        update={
            "subsidy": "none" if dental else subsidy,
            "aptc_amount": Decimal("0.00") if dental else Decimal(aptc),
            "product": "dental" if dental else "health",
            "plan_name": "Dental Plan (Example Dental)" if dental else base.plan_name,
            "renewal_of": f"RefID{rng.randrange(10**9, 10**10)}",
        }
    )


async def _timed_days(to: date, phase: str) -> float:
    say(f"  {phase} (timed): the clock moves to {to}")
    with PHASE_CPU.measure(phase, "member"):
        started = time.perf_counter()
        await clock.advance(to=to)
        await idle.wait_idle(timeout=7200, quiet=True)
        return time.perf_counter() - started


async def _set_up_autopay(members: list[EnrollmentSubmitted], concurrency: int) -> tuple[int, list[str]]:
    """Save a bank account and set up AutoPay for each member; returns how many succeeded and each refusal."""
    gate = asyncio.Semaphore(concurrency)
    done = 0
    refused: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def one(e: EnrollmentSubmitted) -> None:
            nonlocal done
            auth = {"Authorization": f"Bearer {token_for(e.member_id, 'member')}"}
            account = {
                "routing_number": "011000015",
                "account_number": "000777888999",
                "account_type": "checking",
                "holder_name": "Bench Member",
            }
            async with gate:
                saved = await http.post(f"{PAYMENTS}/v1/bank-accounts", headers=auth, json=account)
                if saved.status_code != 201:
                    refused.append(f"{e.enrollment_id}: bank account {saved.status_code} {saved.text[:200]}")
                    return
                mandate = {
                    "enrollment_id": e.enrollment_id,
                    "instrument_token": saved.json()["instrument_token"],
                    "authorization_text_version": "autopay-web-2026-01",
                }
                headers = {**auth, "User-Agent": "premiums-bench"}
                created = await http.post(f"{AUTOPAY}/v1/autopay", headers=headers, json=mandate)
                if created.status_code != 201:
                    refused.append(f"{e.enrollment_id}: AutoPay {created.status_code} {created.text[:200]}")
                    return
            done += 1
            progress("AutoPay set up (not timed)", done + len(refused), len(members))

        await asyncio.gather(*(one(e) for e in members))
    for reason in refused[:5]:
        say(f"  refused: {reason}")
    return done, refused


async def _count(database: str, sql: str, *args: Any) -> int:
    con = await asyncpg.connect(os.environ[f"{database.upper()}_DATABASE_URL"])
    try:
        return int(await con.fetchval(sql, *args))
    finally:
        await con.close()


async def month_cycle(
    members: int, *, autopay_share: float, portal_share: float, concurrency: int, seed: int = 8
) -> dict[str, Any]:
    rng = random.Random(seed)
    today = await clock.current_date() or date.today()
    start = first_of_month_after_next(today)
    bill_day = (start - timedelta(days=1)).replace(day=1)
    say(f"month cycle: {members:,} members renewing for {start}, billed {bill_day}")
    enrollments = [mixed_renewal(i, start, rng) for i in range(members)]
    ids = [e.enrollment_id for e in enrollments]
    await publish_enrollments(enrollments, "renewals published (not timed)")
    await wait_for_rows(
        "coverage", "SELECT count(*) FROM enrollments WHERE enrollment_id = ANY($1)", ids, "known to coverage"
    )
    await idle.wait_idle(timeout=3600, quiet=True)

    bill_seconds = await _timed_days(bill_day, "bill day")
    rng.shuffle(enrollments)
    on_autopay = enrollments[: int(members * autopay_share)]
    at_portal = enrollments[len(on_autopay) : len(on_autopay) + int(members * portal_share)]
    await wait_for_rows(
        "autopay", "SELECT count(*) FROM billing_state WHERE enrollment_id = ANY($1)", ids, "bills known to AutoPay"
    )
    set_up, refused = await _set_up_autopay(on_autopay, concurrency)
    if at_portal:
        await portal(at_portal, concurrency, phase="month: portal (not timed)")
    rest_seconds = await _timed_days(start, "rest of the month")

    invoices = await _count("coverage", "SELECT count(*) FROM invoices WHERE enrollment_id = ANY($1)", ids)
    # The bill day bills every member the system has, not only this run's: that is the month's real size.
    billed = await _count("coverage", "SELECT count(*) FROM invoices WHERE issued_on = $1", bill_day)
    drafts = await _count(
        "payments", "SELECT count(*) FROM payments WHERE channel = 'autopay' AND enrollment_id = ANY($1)", ids
    )
    notices = await _count(
        "notifications",
        "SELECT count(*) FROM notifications WHERE status = 'sent' AND facts->>'enrollment_id' = ANY($1)",
        ids,
    )
    for phase in ("bill day", "rest of the month"):
        PHASE_CPU.count(phase, billed)
    return {
        "month_cycle_members": billed,
        "month_cycle_new_members": members,
        "month_cycle_seconds": round(bill_seconds + rest_seconds, 1),
        "month_cycle_bill_day_seconds": round(bill_seconds, 1),
        "month_cycle_rest_seconds": round(rest_seconds, 1),
        "month_cycle_invoices": invoices,
        "month_cycle_autopay_members": set_up,
        "month_cycle_autopay_refused": len(refused),
        "month_cycle_drafts": drafts,
        "month_cycle_portal_payments": len(at_portal),
        "month_cycle_notices_sent": notices,
    }
