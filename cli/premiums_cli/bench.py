"""`premiums bench`: drive the real system on the local stack and print what it sustains.

Phases (the issue's `month_cycle` is not built yet and is reported as null):
- portal: members pay concurrently through `POST /v1/payments`: requests per second and latency;
- pipeline: the date moves on, the sandbox clears every payment at once, and the run measures how fast
  coverage applies them (clearing → `CoverageActivated`) and notifications emails the confirmations;
- email: confirmations accepted by the SMTP sink per second;
- floor: the same reads and writes with raw aiokafka and asyncpg and no framework, for a ratio;
- resources: CPU seconds and peak memory of every process of the stack.
Results go to `bench/results/<time>.json` and `bench/results/latest.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from premiums_contracts import Envelope

from premiums_cli import clock, idle
from premiums_cli.demo import PAYMENTS, first_of_month_after_next, new_enrollment
from premiums_cli.kafka_io import bootstrap, producer, read_all
from premiums_cli.stack import project_root, status
from premiums_cli.token import token_for


def progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    print(f"\r  {label:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr)
    if done >= total:
        print(file=sys.stderr)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def process_usage() -> dict[str, dict[str, float]]:
    """CPU seconds and peak resident memory (VmHWM) of each process the stack started."""
    tick = os.sysconf("SC_CLK_TCK")
    usage = {}
    for row in status():
        pid = row.get("pid")
        if not pid or row["state"] != "running":
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
            hwm = next(
                line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM")
            )
        except (OSError, StopIteration):
            continue
        usage[row["component"]] = {"cpu_seconds": cpu, "peak_rss_mb": int(hwm.split()[1]) / 1024}
    return usage


async def enroll(count: int) -> list[Any]:
    today = await clock.current_date() or date.today()
    enrollments = [new_enrollment(first_of_month_after_next(today), premium="200.00") for _ in range(count)]
    async with producer() as client:
        for start in range(0, count, 500):
            chunk = enrollments[start : start + 500]
            await asyncio.gather(
                *(
                    client.send(
                        e.topic,
                        value=e.model_dump_json().encode(),
                        key=e.enrollment_id.encode(),
                        headers=Envelope(
                            type=e.ce_type(), source="/premiums/bench", subject=e.enrollment_id
                        ).to_headers(),
                    )
                    for e in chunk
                )
            )
            progress("enrollments published", min(start + 500, count), count)
        await client.flush()
    pool = await asyncpg.connect(os.environ["PAYMENTS_DATABASE_URL"])
    try:
        ids = [e.enrollment_id for e in enrollments]
        while (
            known := await pool.fetchval("SELECT count(*) FROM enrollment_dues WHERE enrollment_id = ANY($1)", ids)
        ) < count:
            progress("invoices known to payments", known, count)
            await asyncio.sleep(0.5)
        progress("invoices known to payments", count, count)
    finally:
        await pool.close()
    return enrollments


async def portal(enrollments: list[Any], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    results: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def pay(e: Any) -> None:
            auth = {"Authorization": f"Bearer {token_for(e.member_id, 'member')}", "Idempotency-Key": str(uuid.uuid4())}
            body = {
                "enrollment_id": e.enrollment_id,
                "amount": "200.00",
                "payment_method": {
                    "type": "bank_account",
                    "routing_number": "011000015",
                    "account_number": "000444555666",
                    "account_type": "checking",
                    "holder_name": "Bench Member",
                },
            }
            async with gate:
                started = time.perf_counter()
                response = await http.post(f"{PAYMENTS}/v1/payments", headers=auth, json=body)
                latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            results.append(response.json())
            progress("portal payments", len(results), len(enrollments))

        started = time.perf_counter()
        await asyncio.gather(*(pay(e) for e in enrollments))
        elapsed = time.perf_counter() - started
    return {
        "payments": results,
        "per_s": len(results) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def _ce_time(record: Any) -> float:
    headers = {k: v.decode() for k, v in record.headers or ()}
    return datetime.fromisoformat(headers["ce_time"]).timestamp()


async def pipeline(enrollments: list[Any], payments: list[dict[str, Any]]) -> dict[str, Any]:
    ids = {e.enrollment_id for e in enrollments}
    settle = max(date.fromisoformat(p["settles_on"]) for p in payments)
    started = time.time()
    await clock.advance(to=settle)
    await idle.wait_idle(timeout=3600, quiet=False)
    finished = time.time()
    cleared = {
        json.loads(r.value)["payment_id"]: _ce_time(r)
        for r in await read_all("payments.events")
        if dict(r.headers).get("ce_type") == b"payments.PaymentCleared.v1" and r.key.decode() in ids
    }
    activated = {
        json.loads(r.value)["payment_id"]: _ce_time(r)
        for r in await read_all("coverage.events")
        if dict(r.headers).get("ce_type") == b"coverage.CoverageActivated.v1" and r.key.decode() in ids
    }
    clear_to_coverage = [(activated[p] - cleared[p]) * 1000 for p in activated if p in cleared]
    con = await asyncpg.connect(os.environ["NOTIFICATIONS_DATABASE_URL"])
    try:
        rows = await con.fetch(
            """
            SELECT extract(epoch FROM sent_at) AS sent, extract(epoch FROM created_at) AS queued
            FROM notifications WHERE kind = 'N4' AND status = 'sent' AND facts->>'enrollment_id' = ANY($1)
            """,
            list(ids),
        )
    finally:
        await con.close()
    submitted = {p["payment_id"]: datetime.fromisoformat(p["received_at"]).timestamp() for p in payments}
    to_email = [(float(r["sent"]) - float(r["queued"])) * 1000 for r in rows]
    sent = sorted(float(r["sent"]) for r in rows)
    return {
        "pipeline_seconds": finished - started,
        "steady_payments_per_s": len(activated) / (finished - started) if activated else None,
        "activated": len(activated),
        "p50_clear_to_coverage_ms": percentile(clear_to_coverage, 50),
        "p99_clear_to_coverage_ms": percentile(clear_to_coverage, 99),
        "p99_to_email_ms": percentile(to_email, 99),
        "emails": len(rows),
        "email_per_s": len(sent) / (sent[-1] - sent[0]) if len(sent) > 1 and sent[-1] > sent[0] else None,
        "submitted_measured": len(submitted),
    }


async def floor(count: int) -> dict[str, Any]:
    """The same work with no framework: consume events, one transaction per batch, produce the results."""
    source, target = f"bench.floor.{uuid.uuid4().hex[:8]}", f"bench.floor.out.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap())
    await admin.start()
    await admin.create_topics([NewTopic(source, 12, 1), NewTopic(target, 12, 1)])
    out = AIOKafkaProducer(bootstrap_servers=bootstrap(), enable_idempotence=True, linger_ms=5)
    await out.start()
    body = b'{"payment_id":"p","enrollment_id":"e","amount":"200.00","cleared_on":"2027-01-04"}'
    await asyncio.gather(*[await out.send(source, body, key=str(i).encode()) for i in range(count)])
    con = await asyncpg.connect(os.environ["COVERAGE_DATABASE_URL"])
    await con.execute("CREATE TEMP TABLE floor_inbox (id text PRIMARY KEY)")
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap(),
        group_id=f"floor-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    done = 0
    started = time.perf_counter()
    try:
        while done < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            async with con.transaction():
                await con.executemany(
                    "INSERT INTO floor_inbox VALUES ($1) ON CONFLICT DO NOTHING",
                    [(f"{r.partition}:{r.offset}",) for r in records],
                )
            await asyncio.gather(*[await out.send(target, r.value, key=r.key) for r in records])
            await consumer.commit()
            done += len(records)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
        await out.stop()
        await con.close()
        await admin.delete_topics([source, target])
        await admin.close()
    return {"floor_payments_per_s": count / elapsed}


async def run(members: int, concurrency: int) -> dict[str, Any]:
    before = process_usage()
    print(f"premiums bench: {members} members, portal concurrency {concurrency}", file=sys.stderr)
    enrollments = await enroll(members)
    portal_figures = await portal(enrollments, concurrency)
    pipeline_figures = await pipeline(enrollments, portal_figures["payments"])
    floor_figures = await floor(members)
    after = process_usage()
    resources = {
        name: {
            "cpu_seconds": round(after[name]["cpu_seconds"] - before.get(name, {}).get("cpu_seconds", 0), 2),
            "peak_rss_mb": round(after[name]["peak_rss_mb"], 1),
        }
        for name in after
    }
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "members": members,
        "portal_payments_per_s": round(portal_figures["per_s"], 1),
        "portal_p50_ms": portal_figures["p50_ms"],
        "portal_p95_ms": portal_figures["p95_ms"],
        "portal_p99_ms": portal_figures["p99_ms"],
        **{k: round(v, 1) if isinstance(v, float) else v for k, v in pipeline_figures.items()},
        **{k: round(v, 1) for k, v in floor_figures.items()},
        "month_cycle_seconds": None,
        "month_cycle_members": None,
        "max_rss_mb": max(r["peak_rss_mb"] for r in resources.values()) if resources else None,
        "processes": resources,
    }
    if result.get("steady_payments_per_s") and result.get("floor_payments_per_s"):
        result["ratio_to_floor"] = round(result["steady_payments_per_s"] / result["floor_payments_per_s"], 3)
    return result


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("bench", help="measure the running system (prints figures, writes JSON)")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    result = asyncio.run(run(args.members, args.concurrency))
    folder = project_root() / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    (folder / f"{result['at'].replace(':', '')}.json").write_text(text)
    (folder / "latest.json").write_text(text)
    print(text)
    return 0
