"""`premiums bench`: drive the real system on the local stack and print what it sustains.

Phases, each optional (`--phases`):
- portal: members pay concurrently through `POST /v1/payments`: requests per second and latency;
- pipeline: the day those payments clear, all at once (the maximum rate): clearing → `CoverageActivated` → the
  welcome email accepted by SMTP;
- latency: as many other members pay, and clear in days of `--rate` payments (one second of traffic at that
  rate): the latency percentiles the targets are set for;
- email: one notifications process delivering a batch of real notices to the SMTP server;
- floor: the same reads and writes with raw aiokafka and asyncpg and no framework, for a ratio;
- month: N members through a whole simulated billing month (`month.py`);
- resources: CPU seconds and peak memory of every process of the stack (PostgreSQL with its backends).
Results go to `bench/results/<time>.json`, `bench/results/latest.json` and a PNG chart beside them; the
README's performance table is rewritten from them. `--quick` runs every phase small, in a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, date, datetime
from typing import Any

from premiums_contracts.events import EnrollmentSubmitted

from premiums_cli import audit, clock, idle
from premiums_cli.bench import payments_flow, report
from premiums_cli.bench.floor import floor
from premiums_cli.bench.measure import PHASE_CPU, core_speed_ms, machine, process_usage, say, usage_between
from premiums_cli.bench.month import month_cycle
from premiums_cli.demo import first_of_month_after_next, new_enrollment
from premiums_cli.stack import scale, status

PHASES = ("portal", "pipeline", "latency", "email", "floor", "month")
QUICK = {"members": 300, "month_members": 2000, "steady": 2000}
SERVICE_PROCESSES = ("payments", "autopay", "coverage", "notifications")
STEADY_PAYMENTS = 10_000
"""Payments in the clearing burst and through the floor, the same number on both sides of the ratio: a burst of
1,000 lasts half a second, and its figure is mostly the time the first payment takes through three hops (the
system measured 1,660-2,060/s on 1,000 and 1,540-1,900/s on 10,000 in one session; the floor with delivery
2,911/s on 1,000 and about 4,850/s on 10,000)."""


def _new_members(today: date, members: int) -> list[EnrollmentSubmitted]:
    return [new_enrollment(first_of_month_after_next(today), premium="200.00") for _ in range(members)]


async def _latency_phase(members: int, rate: int, concurrency: int) -> dict[str, Any]:
    enrollments = _new_members(await clock.current_date() or date.today(), members)
    say(f"latency: {members:,} more members pay, clearing {rate} a day (one second at {rate}/s)")
    await _billed(enrollments)
    return await payments_flow.paced(enrollments, rate, concurrency)


async def _billed(enrollments: list[EnrollmentSubmitted]) -> None:
    await payments_flow.publish_enrollments(enrollments, "enrollments published")
    await payments_flow.wait_for_rows(
        "payments",
        "SELECT count(*) FROM enrollment_dues WHERE enrollment_id = ANY($1)",
        [e.enrollment_id for e in enrollments],
        "bills known to payments",
    )


async def _payment_phases(members: int, steady: int, concurrency: int, phases: set[str]) -> dict[str, Any]:
    burst = max(members, steady) if "pipeline" in phases else members
    enrollments = _new_members(await clock.current_date() or date.today(), burst)
    say(f"payments: {members:,} new members pay their binder at the portal, {concurrency} at a time")
    await _billed(enrollments)
    # The enrollments' own work (bills emailed, coverage pending) is let finish first, untimed, as before every
    # clearing day: the portal's figure is the members' payments and what they cause, not the set-up's backlog.
    await idle.wait_idle(timeout=3600, quiet=True)
    result: dict[str, Any] = {}
    if phases & {"portal", "pipeline"}:
        paid = await payments_flow.portal(enrollments[:members], concurrency)
        payments = paid.pop("payments")
        result.update(paid)
    if "pipeline" in phases and burst > members:
        say(f"  {burst - members:,} more members pay (not timed), so {burst:,} payments clear in the burst")
        more = enrollments[members:]
        payments += (
            await payments_flow.portal(more, concurrency, label="more payments (not timed)", phase="portal: not timed")
        )["payments"]
        await idle.wait_idle(timeout=3600, quiet=True)
    if "pipeline" in phases:
        result.update(await payments_flow.pipeline(enrollments, payments))
        result.update(await payments_flow.confirmations(enrollments))
    if "email" in phases:
        say("email: copies of these members' bills go out at once")
        result.update(await payments_flow.email(enrollments))
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    phases = set(args.phases)
    before = process_usage()
    result: dict[str, Any] = {"members": args.members, "steady_payments": max(args.members, args.steady)}
    if phases & {"portal", "pipeline", "email"}:
        result.update(await _payment_phases(args.members, args.steady, args.concurrency, phases))
    if "latency" in phases:
        result.update(await _latency_phase(args.members, args.rate, args.concurrency))
    if "floor" in phases:
        steady = max(args.members, args.steady)
        say(f"floor: {steady:,} payments through raw aiokafka and asyncpg, as many as the clearing burst")
        result.update(await floor(steady))
    if "month" in phases:
        result.update(
            await month_cycle(
                args.month_members,
                autopay_share=args.autopay_share,
                portal_share=args.portal_share,
                concurrency=args.concurrency,
            )
        )
    resources = usage_between(before, process_usage())
    services = [r["peak_rss_mb"] for name, r in resources.items() if name.split("-")[0] in SERVICE_PROCESSES]
    result["max_rss_mb"] = max(services) if services else None
    result["processes"] = resources
    result["phase_cpu"] = PHASE_CPU.phases
    result["phase_cpu_ms_per_unit"] = PHASE_CPU.per_unit_ms()
    if result.get("steady_payments_per_s") and result.get("floor_payments_per_s"):
        result["floor_ratio"] = round(result["steady_payments_per_s"] / result["floor_payments_per_s"], 3)
    say("audit: the invariants across services on the run's data (not timed; `premiums audit`)")
    await idle.wait_idle(timeout=600)
    result["audit"] = audit.summary(audit.audit(await audit.gather_facts()))
    return result


def _replicas(specs: list[str]) -> dict[str, int]:
    wanted = {}
    for spec in specs:
        name, _, count = spec.partition("=")
        if name not in SERVICE_PROCESSES or not count.isdigit() or int(count) < 1:
            raise SystemExit(f"--replicas takes SERVICE=N with SERVICE one of {', '.join(SERVICE_PROCESSES)}: {spec!r}")
        wanted[name] = int(count)
    return wanted


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("bench", help="measure the running system (prints figures, writes JSON and a chart)")
    parser.add_argument("--members", type=int, default=1000, help="members in the payment phases (default 1,000)")
    parser.add_argument(
        "--month-members", type=int, default=100_000, help="members in the month cycle (default 100,000)"
    )
    parser.add_argument(
        "--rate", type=int, default=200, help="latency phase: payments clearing per day, one second's worth"
    )
    parser.add_argument(
        "--steady",
        type=int,
        default=STEADY_PAYMENTS,
        help=f"payments in the clearing burst and through the floor (default {STEADY_PAYMENTS:,}; at least --members)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="portal and API callers at once")
    parser.add_argument("--autopay-share", type=float, default=0.3, help="month cycle: members on AutoPay")
    parser.add_argument("--portal-share", type=float, default=0.05, help="month cycle: members paying at the portal")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--replicas", nargs="*", default=[], metavar="SERVICE=N", help="e.g. coverage=2")
    parser.add_argument("--quick", action="store_true", help=f"every phase small: {QUICK}")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the README's performance table")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    # A topic the floor just created answers "not leader" for a moment; aiokafka retries and says so loudly.
    logging.getLogger("aiokafka.producer.sender").setLevel(logging.ERROR)
    if args.quick:
        args.members, args.month_members, args.steady = QUICK["members"], QUICK["month_members"], QUICK["steady"]
    wanted = _replicas(args.replicas)
    running = {row["component"] for row in status() if row["state"] == "running"}
    for name, count in wanted.items():
        say(f"{name}: {count} replicas")
        scale(name, count)
    started = datetime.now(UTC)
    speed_before = core_speed_ms()
    try:
        result = asyncio.run(run(args))
    finally:
        for name in wanted:
            scale(name, sum(1 for c in running if c.split("-")[0] == name) or 1)
    result = {
        "at": started.isoformat(timespec="seconds"),
        "command": "premiums " + " ".join(sys.argv[1:]),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "replicas": {name: wanted.get(name, 1) for name in SERVICE_PROCESSES},
        "replicas_note": ", ".join(f"{n} × {c}" for n, c in wanted.items()) or "one process per service",
        "machine": {**machine(), "core_ms_before": speed_before, "core_ms_after": core_speed_ms()},
        **result,
    }
    path = report.write_json(result)
    png = report.chart(result, path.with_suffix(".png"))
    if png is not None:
        (path.parent / "latest.png").write_bytes(png.read_bytes())
    if not args.no_readme and report.update_readme(result):
        say("README.md: performance table updated")
    print(report.table(result))
    if cpu := report.cpu_table(result):
        print(f"\n{cpu}")
    say(f"results: {path}" + (f", chart: {png}" if png else " (no chart: matplotlib is not installed)"))
    return 0 if result["audit"]["clean"] else 1  # throughput must not cost correctness
