"""A clearing batch costs what its size does, not what the table's does (R1.9 at the scale of a billing day).

On a clearing day every payment of the batch was accepted after the last ANALYZE, so PostgreSQL believes no
payment is pending. With its default `random_page_cost` (4.0, a spinning disk) the planner then scanned
`payments_received` and compared every pending payment with every id of the batch: 848 ms for a batch of
500 with 10,000 payments clearing, 12 ms through the primary key. The local stack runs PostgreSQL as for a
cached working set on an SSD (`random_page_cost=1.1`), and this test holds the plan to the key.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
import pytest
from premiums_coverage.repository import MARK_CLEARED_MANY

from tests.integration.support import service_database

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROWS = 20_000
PENDING = 5_000
BATCH = 500


def _scans(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Every (node type, relation) of a JSON plan, depth first."""
    found = [(plan["Node Type"], plan.get("Relation Name"))]
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


async def test_r1_9_a_clearing_batch_finds_its_payments_by_key_whatever_the_statistics_say(
    infrastructure: None,
) -> None:
    async with service_database("premiums_coverage", max_size=2) as pool, pool.acquire() as con:
        await _seed(con)
        await con.execute("ANALYZE payments_received")  # the statistics: every payment cleared
        pending = [
            r["payment_id"]
            for r in await con.fetch(
                "UPDATE payments_received SET status = 'accepted', cleared_on = NULL "
                "WHERE payment_id IN (SELECT payment_id FROM payments_received ORDER BY payment_id DESC LIMIT $1) "
                "RETURNING payment_id",
                PENDING,
            )
        ]
        batch = pending[:BATCH]
        rolled_back = con.transaction()
        await rolled_back.start()
        try:
            explained = await con.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {MARK_CLEARED_MANY}", batch, [date(2027, 1, 4)] * len(batch)
            )
        finally:
            await rolled_back.rollback()
        plan = json.loads(explained)[0]["Plan"]
        scans = _scans(plan)
        assert ("Seq Scan", "payments_received") not in scans, scans
        assert ("Index Scan", "payments_received") in scans, scans
        assert plan["Actual Rows"] == BATCH  # every payment of the batch was pending, and is cleared


async def _seed(con: asyncpg.Connection) -> None:
    ids = [f"enr_{i:06d}" for i in range(ROWS)]
    await con.execute(
        """
        INSERT INTO enrollments (enrollment_id, member_id, billing_account, product, plan_id, plan_name, subsidy,
                                 coverage_start, coverage_end, monthly_premium, aptc_amount, binder_due_date, status)
        SELECT e, 'mem_' || e, 'ba_' || e, 'health', 'plan', 'Plan', 'none', '2027-01-01', '2027-12-31', 200, 0,
               '2026-12-23', 'active'
        FROM unnest($1::text[]) AS e
        """,
        ids,
    )
    await con.execute(
        """
        INSERT INTO payments_received (payment_id, enrollment_id, amount, accepted_on, status, cleared_on)
        SELECT 'pay_' || e, e, 200, '2026-12-20', 'cleared', '2026-12-24' FROM unnest($1::text[]) AS e
        """,
        ids,
    )
