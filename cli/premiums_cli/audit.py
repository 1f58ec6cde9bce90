"""`premiums audit`: reads every service's database and the topics, and checks the invariants of
ARCHITECTURE §6: nothing lost, nothing applied twice, every notice once, nothing stuck unpublished.

Each check is a pure function of the facts gathered, so it can be tested with facts made up to break it.
Run it on a quiet system (`premiums wait-idle` first): work still in flight shows as a breach.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord
from premiums_contracts.topics import TOPICS

from premiums_cli.kafka_io import read_all

OUTBOX_GRACE_SECONDS = 60


@dataclass
class Facts:
    payments: dict[str, str] = field(default_factory=dict)  # payment_id -> status in payments
    ledger: dict[str, str] = field(default_factory=dict)  # payment_id -> status in coverage's ledger
    submitted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # payment_id -> ce_ids
    returned: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))  # (payment, code)
    confirmations: Counter[str] = field(default_factory=Counter)  # payment_id -> N4 rows per channel
    contactable: set[str] = field(default_factory=set)  # payment_ids whose member has an email
    activated: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # enrollment -> ce_ids
    renewals: set[str] = field(default_factory=set)  # R1.14: active from the start, with no activation event
    enrollments: dict[str, dict[str, Any]] = field(default_factory=dict)
    stale_outbox: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    dead_letters_without_reason: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    name: str
    checked: int
    breaches: list[str]

    @property
    def ok(self) -> bool:
        return not self.breaches


def every_accepted_payment_has_one_submitted_event(facts: Facts) -> Check:
    breaches = [
        f"{p}: {len(facts.submitted.get(p, ()))} PaymentSubmitted events"
        for p in facts.payments
        if facts.payments[p] != "unapplied" and len(facts.submitted.get(p, ())) != 1
    ]
    breaches += [
        f"{p}: PaymentSubmitted for a payment payments does not know"
        for p in facts.submitted
        if p not in facts.payments
    ]
    return Check("every accepted payment has exactly one PaymentSubmitted", len(facts.payments), breaches)


def every_payment_is_applied_once_as_it_stands(facts: Facts) -> Check:
    """Cleared payments are in coverage's ledger once (its primary key) with the same status; returns reversed."""
    breaches = []
    for payment_id, status in facts.payments.items():
        if status == "unapplied":
            continue
        ledger = facts.ledger.get(payment_id)
        if ledger is None:
            breaches.append(f"{payment_id}: {status} in payments, missing from coverage's ledger")
        elif ledger != status:
            breaches.append(f"{payment_id}: {status} in payments, {ledger} in coverage's ledger")
    breaches += [f"{p}: in coverage's ledger, unknown to payments" for p in facts.ledger if p not in facts.payments]
    return Check("every cleared payment applied once, every return reversed once", len(facts.payments), breaches)


def every_return_is_reported_once(facts: Facts) -> Check:
    breaches = [
        f"{p} {code}: {len(ids)} PaymentReturned events" for (p, code), ids in facts.returned.items() if len(ids) > 1
    ]
    reported = {payment_id for payment_id, _ in facts.returned}
    breaches += [
        f"{p}: returned in payments but no PaymentReturned"
        for p, s in facts.payments.items()
        if s == "returned" and p not in reported
    ]
    return Check("every returned payment reported exactly once", len(facts.returned), breaches)


def every_payment_confirmation_is_sent_once(facts: Facts) -> Check:
    breaches = [
        f"{p}: {facts.confirmations[p]} N4 confirmations queued"
        for p in facts.submitted
        if p in facts.contactable and facts.confirmations[p] != 1
    ]
    return Check("each payment confirmation (N4) exists exactly once", len(facts.submitted), breaches)


def every_enrollment_state_matches_its_ledger(facts: Facts) -> Check:
    breaches = []
    for enrollment_id, row in facts.enrollments.items():
        activations = len(facts.activated.get(enrollment_id, ()))
        if activations > 1:
            breaches.append(f"{enrollment_id}: activated {activations} times")
        if row["status"] == "pending_binder" and activations:
            breaches.append(f"{enrollment_id}: pending its binder but CoverageActivated was published")
        if row["status"] == "active" and not activations and enrollment_id not in facts.renewals:
            breaches.append(f"{enrollment_id}: active but never activated")
    return Check("every enrollment's state agrees with its events", len(facts.enrollments), breaches)


def every_outbox_row_was_published(facts: Facts) -> Check:
    breaches = [
        f"{service}: {n} outbox rows older than {OUTBOX_GRACE_SECONDS} s"
        for service, n in facts.stale_outbox.items()
        if n
    ]
    return Check("every outbox row was published", len(facts.stale_outbox), breaches)


def dead_letters_state_their_reason(facts: Facts) -> Check:
    return Check(
        "every dead-lettered record states its reason",
        facts.dead_letters,
        [f"{where}: no dlq_reason header" for where in facts.dead_letters_without_reason],
    )


CHECKS = (
    every_accepted_payment_has_one_submitted_event,
    every_payment_is_applied_once_as_it_stands,
    every_return_is_reported_once,
    every_payment_confirmation_is_sent_once,
    every_enrollment_state_matches_its_ledger,
    every_outbox_row_was_published,
    dead_letters_state_their_reason,
)


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}


async def _rows(database: str, sql: str) -> list[asyncpg.Record]:
    con = await asyncpg.connect(os.environ[f"{database.upper()}_DATABASE_URL"])
    try:
        return list(await con.fetch(sql))
    finally:
        await con.close()


async def gather_facts() -> Facts:
    facts = Facts()
    facts.payments = {
        r["payment_id"]: r["status"] for r in await _rows("payments", "SELECT payment_id, status FROM payments")
    }
    facts.ledger = {
        r["payment_id"]: r["status"]
        for r in await _rows("coverage", "SELECT payment_id, status FROM payments_received")
    }
    facts.enrollments = {
        r["enrollment_id"]: dict(r) for r in await _rows("coverage", "SELECT enrollment_id, status FROM enrollments")
    }
    for row in await _rows(
        "notifications",
        """
        SELECT n.facts->>'payment_id' AS payment_id, count(*) AS n, bool_or(m.email IS NOT NULL) AS contactable
        FROM notifications n LEFT JOIN members m USING (member_id)
        WHERE n.kind = 'N4' AND n.channel = 'email' GROUP BY 1
        """,
    ):
        facts.confirmations[row["payment_id"]] = int(row["n"])
        if row["contactable"]:
            facts.contactable.add(row["payment_id"])
    for record in await read_all("payments.events"):
        ce_type = _headers(record).get("ce_type", "")
        body = json.loads(record.value or b"{}")
        if ce_type == "payments.PaymentSubmitted.v1":
            facts.submitted[body["payment_id"]].add(_headers(record)["ce_id"])
        elif ce_type == "payments.PaymentReturned.v1":
            facts.returned[(body["payment_id"], body["return_code"])].add(_headers(record)["ce_id"])
    for record in await read_all("enrollment.events"):
        if _headers(record).get("ce_type") == "enrollment.EnrollmentSubmitted.v1":
            body = json.loads(record.value or b"{}")
            if body.get("renewal_of"):
                facts.renewals.add(body["enrollment_id"])
    for record in await read_all("coverage.events"):
        if _headers(record).get("ce_type") == "coverage.CoverageActivated.v1":
            facts.activated[json.loads(record.value)["enrollment_id"]].add(_headers(record)["ce_id"])
    for service in ("payments", "coverage", "autopay", "notifications"):
        rows = await _rows(
            service,
            f"SELECT count(*) AS n FROM outbox WHERE created_at < now() - interval '{OUTBOX_GRACE_SECONDS} seconds'",
        )
        facts.stale_outbox[service] = int(rows[0]["n"])
    for topic in TOPICS:
        for record in await read_all(topic.dead_letter):
            facts.dead_letters += 1
            if not _headers(record).get("dlq_reason"):
                facts.dead_letters_without_reason.append(f"{record.topic}@{record.partition}:{record.offset}")
    return facts


def audit(facts: Facts) -> list[Check]:
    return [check(facts) for check in CHECKS]


def summary(checks: list[Check]) -> dict[str, Any]:
    """What a benchmark records of an audit: clean or not, how many checks, the first breaches of each."""
    return {
        "clean": all(c.ok for c in checks),
        "checks": len(checks),
        "checked": {c.name: c.checked for c in checks},
        "breaches": {c.name: c.breaches[:5] for c in checks if not c.ok},
    }


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("audit", help="check the invariants across services; exit 1 on a breach")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    results = audit(asyncio.run(gather_facts()))
    if args.json:
        print(json.dumps([{"check": c.name, "checked": c.checked, "breaches": c.breaches} for c in results], indent=2))
    else:
        for check in results:
            mark = "ok    " if check.ok else "BREACH"
            print(f"{mark} {check.name} ({check.checked} checked)")
            for breach in check.breaches[:20]:
                print(f"         {breach}")
            if len(check.breaches) > 20:
                print(f"         … and {len(check.breaches) - 20} more")
    return 0 if all(c.ok for c in results) else 1
