"""Use case: bring enrollments' standing up to date (R2.4, R2.7, R2.8, D5, D7) and say what happened.

The daily delinquency job calls it for every account that owes money for a month already due; payment
handlers call it for one account, so a cure (R2.4) or a returned payment (D7) takes effect at once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from premiums_contracts.events import AccountDelinquent, CoverageReinstated, CoverageTerminated

from premiums_coverage import repository as repo
from premiums_coverage.domain.calendar import month_key
from premiums_coverage.domain.delinquency import (
    Assessment,
    amount_past_due,
    assess,
    paid_through,
    reinstatement_deadline,
)
from premiums_coverage.domain.ledger import balance
from premiums_coverage.domain.reinstatement import within_window


async def update_standing(
    con: asyncpg.Connection, rows: list[Any], today: date, threshold_percent: int | None
) -> list[AccountDelinquent | CoverageTerminated]:
    """Assess each account (pure), then save every change in two batches; returns the notices to publish."""
    events: list[AccountDelinquent | CoverageTerminated] = []
    standings: list[repo.Standing] = []
    notices: list[repo.LadderNotice] = []
    ended: list[tuple[str, date, str, date, date]] = []
    for row in rows:
        if row["status"] not in ("active", "delinquent"):
            continue
        account = repo.account_of(row)
        verdict = assess(account, today, threshold_percent)
        if verdict.terminate and verdict.ladder is not None:
            reinstate_by = reinstatement_deadline(today)
            ended.append((row["enrollment_id"], verdict.ladder.end_date, verdict.ladder.reason, today, reinstate_by))
            events.append(
                CoverageTerminated(
                    enrollment_id=row["enrollment_id"],
                    member_id=row["member_id"],
                    end_date=verdict.ladder.end_date,
                    reason=verdict.ladder.reason,
                    reinstate_by=reinstate_by,
                )
            )
            continue
        through = paid_through(account.charges, account.received, threshold_percent)
        standing = standing_after(row, verdict, through)
        if standing != standing_of(row):
            standings.append(standing)
        if verdict.warning is not None and verdict.ladder is not None:
            notices.append(
                (
                    row["enrollment_id"],
                    standing[2],
                    verdict.notice_level,
                    verdict.warning.notice,
                    today,
                    verdict.warning.pay_by,
                )
            )
            events.append(
                AccountDelinquent(
                    enrollment_id=row["enrollment_id"],
                    member_id=row["member_id"],
                    first_unpaid_month=month_key(verdict.ladder.first_unpaid_month),
                    amount_past_due=amount_past_due(account.charges, account.received, today),
                    pay_by=verdict.warning.pay_by,
                    notice=verdict.warning.notice,
                )
            )
    await repo.save_standings(con, standings, notices)
    await repo.terminate(con, ended)
    return events


def standing_of(row: Any) -> repo.Standing:
    return (
        row["enrollment_id"],
        row["status"],
        row["ladder_month"],
        row["notice_level"],
        row["notice_pay_by"],
        row["paid_through"],
    )


def standing_after(row: Any, verdict: Assessment, through: date | None) -> repo.Standing:
    """The enrollment's standing columns once `verdict` is saved: the pay-by date of the newest notice stays
    while the ladder is on the same month, and goes once the ladder moves or ends. An unchanged standing is
    not written again (the daily job assesses every owing account every day; most days nothing moves)."""
    month = month_key(verdict.ladder.first_unpaid_month) if verdict.ladder is not None else None
    if month is None:
        pay_by = None
    elif verdict.warning is not None:
        pay_by = verdict.warning.pay_by
    else:
        pay_by = row["notice_pay_by"] if row["ladder_month"] == month else None
    return (
        row["enrollment_id"],
        verdict.status,
        month,
        verdict.notice_level,
        pay_by,
        through if through is not None else row["paid_through"],
    )


async def reinstate_if_paid(con: asyncpg.Connection, enrollment: Any, day: date) -> CoverageReinstated | None:
    """R2.10/D8: a terminated member who asked for reinstatement within 35 days of the termination notice,
    and whose money covers the full balance plus the restored months, is active again with no gap."""
    request = await repo.open_reinstatement_request(con, enrollment["enrollment_id"])
    if request is None or not within_window(day, enrollment["reinstate_by"]):
        return None
    charges = await repo.charges(con, enrollment["enrollment_id"])
    received = await repo.received_total(con, enrollment["enrollment_id"])
    if balance(charges, received) + request["monthly_premium"] * len(request["months"]) > 0:
        return None
    await repo.reinstate(con, enrollment["enrollment_id"], list(request["months"]), request["monthly_premium"], day)
    through = (
        paid_through(await repo.charges(con, enrollment["enrollment_id"]), received) or enrollment["coverage_start"]
    )
    await repo.set_status(con, enrollment["enrollment_id"], "active", through)
    return CoverageReinstated(
        enrollment_id=enrollment["enrollment_id"], member_id=enrollment["member_id"], paid_through=through
    )
