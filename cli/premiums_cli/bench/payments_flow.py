"""The payment phases of the benchmark: members pay through the portal, the bank clears the payments, coverage
activates the enrollments and notifications emails the members; then the email leg alone.

Every figure is read back from what the system recorded: the CloudEvents `ce_time` of `PaymentCleared` and
`CoverageActivated`, and the notifications table's `created_at` (queued) and `sent_at` (accepted by SMTP).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from premiums_contracts import Envelope
from premiums_contracts.events import EnrollmentSubmitted

from premiums_cli import clock, idle
from premiums_cli.bench.http_load import Request, post_all
from premiums_cli.bench.measure import PHASE_CPU, percentile, progress, say
from premiums_cli.demo import PAYMENTS
from premiums_cli.kafka_io import producer, read_all
from premiums_cli.stack import status
from premiums_cli.token import tokens_for

PUBLISH_CHUNK = 500


async def publish_enrollments(enrollments: list[EnrollmentSubmitted], label: str) -> None:
    async with producer() as client:
        for start in range(0, len(enrollments), PUBLISH_CHUNK):
            chunk = enrollments[start : start + PUBLISH_CHUNK]
            sent = [
                await client.send(
                    e.topic,
                    value=e.model_dump_json().encode(),
                    key=e.enrollment_id.encode(),
                    headers=Envelope(type=e.ce_type(), source="/premiums/bench", subject=e.enrollment_id).to_headers(),
                )
                for e in chunk
            ]
            await asyncio.gather(*sent)
            progress(label, min(start + PUBLISH_CHUNK, len(enrollments)), len(enrollments))


async def wait_for_rows(database: str, sql: str, ids: list[str], label: str, timeout: float = 3600) -> None:
    """Until `sql` (a count over `$1`, the ids) reaches the number of distinct ids, with a progress bar."""
    ids = list(dict.fromkeys(ids))
    con = await asyncpg.connect(os.environ[f"{database.upper()}_DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while (done := await con.fetchval(sql, ids)) < len(ids):
            progress(label, done, len(ids))
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: {done} of {len(ids)} after {timeout:.0f} s")
            await asyncio.sleep(0.5)
        progress(label, len(ids), len(ids))
    finally:
        await con.close()


async def portal(
    enrollments: list[EnrollmentSubmitted], concurrency: int, label: str = "portal payments", phase: str = "portal"
) -> dict[str, Any]:
    """Members pay their monthly premium at once, `concurrency` at a time, each with its own token and
    Idempotency-Key (made before the clock starts: they are the members' work, not the system's)."""
    requests = [
        Request(
            "/v1/payments",
            {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            {
                "enrollment_id": e.enrollment_id,
                "amount": str(e.monthly_premium),
                "payment_method": {
                    "type": "bank_account",
                    "routing_number": "011000015",
                    "account_number": "000444555666",
                    "account_type": "checking",
                    "holder_name": "Bench Member",
                },
            },
        )
        for e, token in zip(enrollments, tokens_for([e.member_id for e in enrollments]), strict=True)
    ]
    urls = payments_urls()  # before the clock: finding the processes probes the whole stack (0.2 s)
    with PHASE_CPU.measure(phase, "payment", len(requests)):
        started = time.perf_counter()
        answers = await post_all(urls, requests, concurrency, lambda n: progress(label, n, len(requests)))
        elapsed = time.perf_counter() - started
    if refused := [a for a in answers if a.status != 201]:
        raise RuntimeError(f"{len(refused)} payments refused, e.g. {refused[0].status}: {refused[0].body}")
    latencies = [a.milliseconds for a in answers]
    return {
        "payments": [a.body for a in answers],
        "portal_payments_per_s": round(len(answers) / elapsed, 1),
        "portal_p50_ms": percentile(latencies, 50),
        "portal_p95_ms": percentile(latencies, 95),
        "portal_p99_ms": percentile(latencies, 99),
    }


def payments_urls() -> list[str]:
    """Every running payments process (`--replicas payments=N`), else the one the stack names."""
    running = [
        f"http://{row['host']}:{row['port']}"
        for row in status()
        if row["component"].split("-")[0] == "payments" and row["state"] == "running"
    ]
    return running or [PAYMENTS]


def _ce_time(record: Any) -> float:
    headers = {k: v.decode() for k, v in record.headers or ()}
    return datetime.fromisoformat(headers["ce_time"]).timestamp()


async def _event_times(topic: str, ce_type: str, keys: set[str], field: str) -> dict[str, float]:
    return {
        json.loads(r.value)[field]: _ce_time(r)
        for r in await read_all(topic)
        if dict(r.headers).get("ce_type") == ce_type.encode() and r.key.decode() in keys
    }


async def _notice_times(kind: str, key: str, ids: list[str]) -> list[Any]:
    con = await asyncpg.connect(os.environ["NOTIFICATIONS_DATABASE_URL"])
    try:
        return list(
            await con.fetch(
                f"""
                SELECT facts->>'{key}' AS id, extract(epoch FROM created_at) AS queued,
                       extract(epoch FROM sent_at) AS sent
                FROM notifications WHERE kind = $1 AND channel = 'email' AND facts->>'{key}' = ANY($2)
                """,
                kind,
                ids,
            )
        )
    finally:
        await con.close()


async def _clearing_latencies(
    enrollments: list[EnrollmentSubmitted], payments: list[dict[str, Any]]
) -> tuple[dict[str, float], list[Any], list[float], list[float]]:
    """Each payment's clearing time, its member's welcome notice, and the two latencies measured from it."""
    ids = {e.enrollment_id for e in enrollments}
    cleared = await _event_times("payments.events", "payments.PaymentCleared.v1", ids, "payment_id")
    activated = await _event_times("coverage.events", "coverage.CoverageActivated.v1", ids, "payment_id")
    by_enrollment = {p["enrollment_id"]: p["payment_id"] for p in payments}
    welcomes = await _notice_times("N2", "enrollment_id", list(ids))
    clear_to_coverage = [(activated[p] - cleared[p]) * 1000 for p in activated if p in cleared]
    to_email = [
        (float(w["sent"]) - cleared[by_enrollment[w["id"]]]) * 1000
        for w in welcomes
        if w["sent"] is not None and by_enrollment.get(w["id"]) in cleared
    ]
    return cleared, welcomes, clear_to_coverage, to_email


def _percentiles(prefix: str, clear_to_coverage: list[float], to_email: list[float]) -> dict[str, float | None]:
    return {
        f"{prefix}p50_clear_to_coverage_ms": percentile(clear_to_coverage, 50),
        f"{prefix}p95_clear_to_coverage_ms": percentile(clear_to_coverage, 95),
        f"{prefix}p99_clear_to_coverage_ms": percentile(clear_to_coverage, 99),
        f"{prefix}p50_to_email_ms": percentile(to_email, 50),
        f"{prefix}p95_to_email_ms": percentile(to_email, 95),
        f"{prefix}p99_to_email_ms": percentile(to_email, 99),
    }


async def _clearing_day(settle: date, phase: str, payments: int) -> tuple[float, float]:
    """Move the business clock to the eve of `settle` and let the system go idle (untimed); then to `settle`
    until it is idle again. Returns when the clearing day started and when its work was done."""
    if (await clock.current_date() or settle) < settle - timedelta(days=1):
        await clock.advance(to=settle - timedelta(days=1))
    await idle.wait_idle(timeout=3600, quiet=True)
    with PHASE_CPU.measure(phase, "payment", payments):
        started = time.time()
        await clock.advance(to=settle)
        await idle.wait_idle(timeout=3600, quiet=True)
    return started, time.time()


async def _others_due(settle: date, ours: list[str]) -> int:
    """Accepted payments that are not this run's and clear by `settle` (a portal-only run leaves its payments
    to the next clearing day): their work lands in the measured window, so the run says how many."""
    con = await asyncpg.connect(os.environ["PAYMENTS_DATABASE_URL"])
    try:
        return int(
            await con.fetchval(
                "SELECT count(*) FROM payments WHERE status = 'accepted' AND settles_on <= $1 "
                "AND NOT payment_id = ANY($2::text[])",
                settle,
                ours,
            )
        )
    finally:
        await con.close()


async def pipeline(enrollments: list[EnrollmentSubmitted], payments: list[dict[str, Any]]) -> dict[str, Any]:
    """The maximum rate: every payment clears on one day, in one burst: clearing → `CoverageActivated` → the
    N2 welcome email accepted by SMTP. The latencies of a burst are reported as `burst_*`.

    The clock is first moved to the day before and the system left to go idle (untimed), so the figure is
    the clearing day's work alone.
    """
    settle = max(date.fromisoformat(p["settles_on"]) for p in payments)
    others = await _others_due(settle, [p["payment_id"] for p in payments])
    say(f"  clearing day {settle}: {len(payments)} payments clear, coverage activates, members are emailed")
    if others:
        say(f"  and {others:,} payments the bench did not make (an earlier run's), which stretch the window")
    started, idle_at = await _clearing_day(settle, "pipeline", len(payments))
    cleared, welcomes, clear_to_coverage, to_email = await _clearing_latencies(enrollments, payments)
    first_clear = min(cleared.values(), default=started)
    last_queued = max((float(w["queued"]) for w in welcomes), default=idle_at)
    return {
        "clearing_day_seconds": round(idle_at - started, 1),
        "other_payments_cleared": others,
        "cleared": len(cleared),
        "activated": len(clear_to_coverage),
        "welcome_emails": sum(1 for w in welcomes if w["sent"] is not None),
        "steady_payments_per_s": round(len(welcomes) / (last_queued - first_clear), 1) if welcomes else None,
        **_percentiles("burst_", clear_to_coverage, to_email),
    }


async def paced(enrollments: list[EnrollmentSubmitted], rate: int, concurrency: int) -> dict[str, Any]:
    """The latency at `rate` payments a second. Clearing is a daily batch, so the payments are cut into
    clearing days of `rate` payments each: one second of traffic at that rate. Each day's payments are made
    at the portal and the system left idle (untimed); then the day they clear is measured. The figures are the
    percentiles over every payment of every day: clearing → `CoverageActivated` and → welcome email."""
    payments: list[dict[str, Any]] = []
    for start in range(0, len(enrollments), rate):
        day = enrollments[start : start + rate]
        label = f"payments of clearing day {start // rate + 1}"
        paid = (await portal(day, concurrency, label=label, phase="latency: paying"))["payments"]
        payments += paid
        await _clearing_day(max(date.fromisoformat(p["settles_on"]) for p in paid), "latency: clearing", len(paid))
    _, _, clear_to_coverage, to_email = await _clearing_latencies(enrollments, payments)
    return {
        "latency_rate_per_s": rate,
        "latency_payments": len(clear_to_coverage),
        **_percentiles("", clear_to_coverage, to_email),
    }


async def confirmations(enrollments: list[EnrollmentSubmitted]) -> dict[str, Any]:
    """Accepted at the portal (`PaymentSubmitted`) → the N4 confirmation email accepted by SMTP."""
    keys = {e.enrollment_id for e in enrollments}
    accepted = await _event_times("payments.events", "payments.PaymentSubmitted.v1", keys, "payment_id")
    rows = await _notice_times("N4", "payment_id", list(accepted))
    latencies = [(float(r["sent"]) - accepted[r["id"]]) * 1000 for r in rows if r["sent"] is not None]
    return {"p50_accept_to_email_ms": percentile(latencies, 50), "p99_accept_to_email_ms": percentile(latencies, 99)}


async def email(enrollments: list[EnrollmentSubmitted]) -> dict[str, Any]:
    """One notifications process alone against the SMTP server: a copy of each bench member's bill notice
    (N1) is queued out of reach, then made due at once; the figure is how fast they are all accepted."""
    run = uuid.uuid4().hex[:8]
    await wait_for_rows(
        "notifications",
        """
        SELECT count(*) FROM notifications
        WHERE kind = 'N1' AND status = 'sent' AND facts->>'enrollment_id' = ANY($1)
        """,
        [e.enrollment_id for e in enrollments],
        "bills emailed (the originals)",
    )
    con = await asyncpg.connect(os.environ["NOTIFICATIONS_DATABASE_URL"])
    try:
        copied = await con.fetchval(
            """
            WITH copies AS (
                INSERT INTO notifications (notification_id, member_id, kind, dedupe_key, channel, facts, triggered_by,
                                           correlation_id, next_attempt_at)
                SELECT 'ntf_bench_' || $2 || '_' || row_number() OVER (), member_id, kind,
                       dedupe_key || ':bench-' || $2, channel, facts, triggered_by, correlation_id,
                       now() + interval '1 day'
                FROM notifications
                WHERE kind = 'N1' AND channel = 'email' AND status = 'sent' AND facts->>'enrollment_id' = ANY($1)
                RETURNING 1
            ) SELECT count(*) FROM copies
            """,
            [e.enrollment_id for e in enrollments],
            run,
        )
        pattern = f"ntf_bench_{run}_%"
        with PHASE_CPU.measure("email", "email", copied):
            started = time.time()
            await con.execute("UPDATE notifications SET next_attempt_at = now() WHERE notification_id LIKE $1", pattern)
            await con.execute("NOTIFY notifications")
            # Counted among the pending notices (the sender's own partial index, 0.2 ms): counting the sent
            # ones scanned the whole table, 54 ms of PostgreSQL's CPU four times a second.
            while pending := await con.fetchval(
                "SELECT count(*) FROM notifications WHERE status = 'pending' AND notification_id LIKE $1", pattern
            ):
                progress("emails accepted by SMTP", copied - pending, copied)
                await asyncio.sleep(0.25)
        progress("emails accepted by SMTP", copied, copied)
        last = await con.fetchval(
            "SELECT extract(epoch FROM max(sent_at)) FROM notifications WHERE notification_id LIKE $1", pattern
        )
    finally:
        await con.close()
    elapsed = float(last) - started if last else None
    return {"emails_measured": copied, "email_per_s": round(copied / elapsed, 1) if elapsed else None}
