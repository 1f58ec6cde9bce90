"""Coverage from binder to termination, end to end through Kafka, HTTP and the simulated clock (issue 4).

One cohort enrolls together so the shared business clock moves only once for all of them; each test
advances it to the dates its scenario needs (never back). With M the coverage start (the 1st of the
month after next): the bill for M+1 is issued on M's 1st, due M's 23rd (R1.1, R1.4).

- a late binder is cancelled the day after its due date and never activated (R1.10, D3);
- unsubsidized: Past Due Warning on M's 24th, terminated on M+1's 24th back to M's last day (R2.8);
- APTC: Past Due Warning, Termination Warnings 1 and 2 on successive 24ths, then terminated back to
  the last day of the first unpaid month, M+1 (R2.7);
- APTC who pays the full balance after the first warning is active again (R2.4);
- a terminated member who asks within 35 days learns what to pay: the balance plus next month (R2.10).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from premiums_cli.demo import first_of_month_after_next, new_enrollment, submit_enrollment
from premiums_cli.token import token_for
from premiums_contracts.events import EnrollmentSubmitted
from premiums_coverage.domain.calendar import add_months, last_day_of_month

from tests.e2e.support import COVERAGE, PAYMENTS, body_of, business_date, one_record, premiums, records_for
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system"), pytest.mark.timeout(1800)]

ACCOUNT_NUMBER = "000555123456"


def advance_to(day: date) -> None:
    if day > business_date():
        premiums("clock", "advance", "--to", day.isoformat(), "--wait")


def auth(e: EnrollmentSubmitted) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(e.member_id, 'member')}"}


async def enrollment_view(e: EnrollmentSubmitted) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(f"{COVERAGE}/v1/enrollments/{e.enrollment_id}", headers=auth(e))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def pay(e: EnrollmentSubmitted, amount: str) -> dict[str, Any]:
    """As the member in the portal: vault an account, then pay with an Idempotency-Key."""
    async with httpx.AsyncClient(timeout=30) as http:
        account = {
            "routing_number": "011000015",
            "account_number": ACCOUNT_NUMBER,
            "account_type": "checking",
            "holder_name": "Ana Rivera",
        }
        vaulted = await http.post(f"{PAYMENTS}/v1/bank-accounts", headers=auth(e), json=account)
        assert vaulted.status_code == 201, vaulted.text
        order = {
            "enrollment_id": e.enrollment_id,
            "amount": amount,
            "payment_method": {"type": "bank_account", "instrument_token": vaulted.json()["instrument_token"]},
        }

        async def accepted() -> dict[str, Any] | None:
            headers = {**auth(e), "Idempotency-Key": str(uuid.uuid4())}
            response = await http.post(f"{PAYMENTS}/v1/payments", headers=headers, json=order)
            return response.json() if response.status_code == 201 else None  # type: ignore[no-any-return]

        return await eventually(accepted, timeout=60, interval=0.5, what=f"payment of {amount}")


async def coverage_events(e: EnrollmentSubmitted, name: str) -> list[dict[str, Any]]:
    return [body_of(r) for r in await records_for("coverage.events", e.enrollment_id, f"coverage.{name}.v1")]


def cohort_start(today: date) -> date:
    """A start month that leaves the ladders room before coverage ends on December 31 (R1.6)."""
    start = first_of_month_after_next(today)
    return start if start.month <= 8 else date(start.year + 1, 1, 1)


class Cohort:
    def __init__(self, start: date) -> None:
        self.start = start
        self.late = self._member("none")
        self.unsubsidized = self._member("none")
        self.aptc = self._member("aptc")
        self.cures = self._member("aptc")

    def _member(self, subsidy: str) -> EnrollmentSubmitted:
        e = new_enrollment(self.start, premium="100.00")
        return e.model_copy(
            update={"subsidy": subsidy, "aptc_amount": Decimal("0.00" if subsidy == "none" else "300.00")}
        )

    def month(self, n: int) -> date:
        return add_months(self.start, n)

    def day(self, n: int, day: int) -> date:
        """The `day` of month M+n."""
        return self.month(n).replace(day=day)


@pytest.fixture(scope="module")
async def cohort() -> Cohort:
    c = Cohort(cohort_start(business_date()))
    members = [c.late, c.unsubsidized, c.aptc, c.cures]
    for e in members:
        await submit_enrollment(e)
    for e in members:
        await one_record("coverage.events", e.enrollment_id, "coverage.InvoiceIssued.v1")
    paid = [await pay(e, "100.00") for e in members[1:]]
    advance_to(max(date.fromisoformat(p["settles_on"]) for p in paid))
    for e in members[1:]:
        await one_record("coverage.events", e.enrollment_id, "coverage.CoverageActivated.v1")
    return c


async def test_r1_10_a_late_binder_is_cancelled_and_never_activated(cohort: Cohort) -> None:
    e = cohort.late
    due = cohort.day(-1, 23)
    advance_to(due)
    assert (await enrollment_view(e))["status"] == "pending_binder"
    advance_to(due + timedelta(days=1))
    cancelled = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.EnrollmentCancelledNoBinder.v1"))
    assert cancelled["coverage_start"] == cohort.start.isoformat()
    view = await enrollment_view(e)
    assert view["status"] == "cancelled" and view["paid_through"] is None
    assert await coverage_events(e, "CoverageActivated") == []


async def test_r1_4_the_monthly_bill_of_the_1st_is_for_next_month_due_the_23rd(cohort: Cohort) -> None:
    advance_to(cohort.day(0, 1))
    bills = [b for b in await coverage_events(cohort.unsubsidized, "InvoiceIssued") if not b["binder"]]
    assert [(b["coverage_month"], b["due_date"], b["amount_due"], b["past_due"], b["total_due"]) for b in bills] == [
        (cohort.month(1).strftime("%Y-%m"), cohort.day(0, 23).isoformat(), "100.00", "0.00", "100.00")
    ]


async def test_r2_4_an_aptc_member_who_pays_the_full_balance_mid_ladder_is_active_again(cohort: Cohort) -> None:
    e = cohort.cures
    advance_to(cohort.day(0, 24))
    await one_record("coverage.events", e.enrollment_id, "coverage.AccountDelinquent.v1")
    assert (await enrollment_view(e))["status"] == "delinquent"
    balance = (await enrollment_view(e))["balance"]
    assert balance == "100.00"
    payment = await pay(e, balance)

    async def applied() -> dict[str, Any] | None:
        found = [b for b in await coverage_events(e, "PaymentApplied") if b["payment_id"] == payment["payment_id"]]
        return found[0] if found else None

    applied_body = await eventually(applied, timeout=60, interval=0.5, what="PaymentApplied")
    assert applied_body is not None and applied_body["balance"] == "0.00"
    view = await enrollment_view(e)
    assert (view["status"], view["paid_through"]) == ("active", last_day_of_month(cohort.month(1)).isoformat())
    advance_to(cohort.day(1, 2))
    assert len(await coverage_events(e, "AccountDelinquent")) == 1, "no further warning once cured"


async def test_r2_8_unsubsidized_member_who_misses_a_month_is_warned_then_terminated(cohort: Cohort) -> None:
    e = cohort.unsubsidized
    advance_to(cohort.day(0, 24))
    warning = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.AccountDelinquent.v1"))
    assert (warning["notice"], warning["first_unpaid_month"], warning["pay_by"], warning["amount_past_due"]) == (
        "past_due_warning",
        cohort.month(1).strftime("%Y-%m"),
        cohort.day(1, 23).isoformat(),
        "100.00",
    )
    view = await enrollment_view(e)
    assert (view["status"], view["next_due_date"]) == ("delinquent", cohort.day(1, 23).isoformat())
    advance_to(cohort.day(1, 24))
    ended = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.CoverageTerminated.v1"))
    assert ended["end_date"] == last_day_of_month(cohort.start).isoformat(), "back to the last month paid"
    assert ended["reinstate_by"] == (cohort.day(1, 24) + timedelta(days=35)).isoformat()
    view = await enrollment_view(e)
    assert (view["status"], view["paid_through"]) == ("terminated", last_day_of_month(cohort.start).isoformat())


async def test_r2_10_a_terminated_member_asks_for_reinstatement_within_35_days_and_learns_what_to_pay(
    cohort: Cohort,
) -> None:
    e = cohort.unsubsidized
    advance_to(cohort.day(1, 24))
    await one_record("coverage.events", e.enrollment_id, "coverage.CoverageTerminated.v1")
    async with httpx.AsyncClient(timeout=30) as http:
        url = f"{COVERAGE}/v1/enrollments/{e.enrollment_id}/reinstatement"
        stranger = {"Authorization": f"Bearer {token_for('999999999999', 'member')}"}
        assert (await http.post(url, headers=stranger)).status_code == 404
        active = f"{COVERAGE}/v1/enrollments/{cohort.cures.enrollment_id}/reinstatement"
        refused = await http.post(active, headers=auth(cohort.cures))
        assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
        asked = await http.post(url, headers=auth(e))
    assert asked.status_code == 201, asked.text
    quote = asked.json()
    assert quote["status"] == "requested"
    assert quote["months"] == [cohort.month(1).strftime("%Y-%m"), cohort.month(2).strftime("%Y-%m")]
    assert quote["amount_due"] == "200.00", "the full balance plus the next month (R2.10)"
    requested = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.ReinstatementRequested.v1"))
    assert (requested["amount_due"], requested["pay_by"]) == ("200.00", quote["pay_by"])
    assert quote["pay_by"] == (cohort.day(1, 24) + timedelta(days=35)).isoformat()
    # Paying it through the portal within the window completes the reinstatement.
    await pay(e, quote["amount_due"])
    reinstated = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.CoverageReinstated.v1"))
    assert reinstated["enrollment_id"] == e.enrollment_id
    assert (await enrollment_view(e))["status"] == "active"


async def test_r2_7_an_aptc_member_walks_the_three_month_ladder_to_termination(cohort: Cohort) -> None:
    e = cohort.aptc
    expected = []
    for n, notice in enumerate(("past_due_warning", "termination_warning_1", "termination_warning_2")):
        advance_to(cohort.day(n, 24))
        expected.append(
            (notice, cohort.month(1).strftime("%Y-%m"), cohort.day(n + 1, 23).isoformat(), f"{100 * (n + 1)}.00")
        )

        async def notices(count: int = n + 1) -> list[Any] | None:
            found = await coverage_events(e, "AccountDelinquent")
            return found if len(found) >= count else None

        found = await eventually(notices, timeout=60, interval=0.5, what=f"{notice}")
        assert found is not None
        seen = [(x["notice"], x["first_unpaid_month"], x["pay_by"], x["amount_past_due"]) for x in found]
        assert seen[: n + 1] == expected
        assert (await enrollment_view(e))["status"] == "delinquent"
    assert await coverage_events(e, "CoverageTerminated") == []
    advance_to(cohort.day(3, 24))
    ended = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.CoverageTerminated.v1"))
    assert ended["end_date"] == last_day_of_month(cohort.month(1)).isoformat(), (
        "R2.3: last day of the first unpaid month"
    )
    assert (await enrollment_view(e))["status"] == "terminated"
