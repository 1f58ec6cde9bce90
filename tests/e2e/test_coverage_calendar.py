"""Coverage's premium rules on real dates, end to end through Kafka, HTTP and the simulated clock (issue 4).

One cast of members is set up before December 1 and the shared business clock walks them through a plan
year Y, stopping on the days the rules name. With Y = 2027 (the year a run that starts by November 2026
uses; a later start uses the next year with 2027's days of the week, 2038 after November 2026: `plan_year`):

| day          | what happens                                                                            |
|--------------|-----------------------------------------------------------------------------------------|
| setup        | renewals for Jan 1 owe no binder (R1.14); a $0 enrollment is active at once (D4)         |
| Dec 1        | the January bill of every renewal, due Dec 23 (R1.4); one member prepays to March        |
| Dec 24       | unpaid renewals are delinquent, not cancelled (R1.14)                                    |
| Jan 1        | Past Due Warnings with the January bill: pay Jan + Feb by Jan 23 (R2.7 worked example)   |
| Jan 23 (Sat) | a binder paid today is on time (R1.3, D1) and activates Feb 1 once it clears on Monday   |
| Jan 24       | a binder not paid is cancelled; paying today is too late (R1.10, D3); the unsubsidized   |
|              | renewal is terminated back to Dec 31 (R1.14, R2.8)                                        |
| Feb 1        | Termination Warning 1 (R2.7)                                                             |
| Feb 10       | an APTC member pays the full balance in grace month 2 and keeps coverage (R2.4)           |
| Feb 27       | day 34 after the termination notice: reinstatement granted and paid (R2.10, D8)           |
| Mar 1        | day 36: reinstatement refused; Termination Warning 2 (R2.7)                               |
| Mar 23       | a member pays the April bill (issued Mar 1) from an account the bank returns R01        |
| Mar 24       | ConnectorCare renewal terminated back to Jan 31 (R2.3, R2.7)                              |
| Mar 25       | the R01 return: April reverts to unpaid as of its due date (D7, R5.18)                    |
| Apr 1        | that member's Past Due Warning for April, pay by Apr 23                                   |
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from premiums_cli.demo import new_enrollment, submit_enrollment
from premiums_contracts.events import EnrollmentSubmitted

from tests.e2e.support import (
    COVERAGE,
    advance_to,
    body_of,
    business_date,
    coverage_events,
    enrollment_view,
    member_auth,
    one_record,
    pay,
    records_for,
    try_to_pay,
)
from tests.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.dated, pytest.mark.usefixtures("system"), pytest.mark.timeout(2400)]

R01_ACCOUNT = "000555120001"  # the sandbox bank returns it R01 one banking day after clearing (ARCHITECTURE §5)


def plan_year(today: date) -> int:
    """The first plan year whose renewals can still be set up before their December 1 bill, and whose days of
    the week are 2027's (not a leap year, January 1 a Friday): the story's days are the rules' days only on
    that calendar (the binder paid on Saturday the 23rd clears on Monday; the R01 return of March 25 comes on
    a banking day). A run after November 2026 plays 2038, the next such year."""
    year = today.year + 1 if today <= date(today.year, 11, 30) else today.year + 2
    while calendar.isleap(year) or date(year, 1, 1).weekday() != calendar.FRIDAY:
        year += 1
    return year


class Cast:
    """The members of the story and the calendar of plan year `year` (November and December: the year before)."""

    def __init__(self, year: int) -> None:
        self.year = year
        jan1, feb1 = date(year, 1, 1), date(year, 2, 1)
        self.unsubsidized = self.renewal(jan1, "none")
        self.unsubsidized_late = self.renewal(jan1, "none")
        self.connectorcare = self.renewal(jan1, "connectorcare")
        self.aptc_cures = self.renewal(jan1, "aptc")
        self.returned = self.renewal(jan1, "none")
        self.binder_on_23rd = self.member(feb1, "none")
        self.binder_on_24th = self.member(feb1, "none")
        self.zero_premium = self.member(feb1, "connectorcare", premium="0.00")

    def day(self, month: int, day: int) -> date:
        return date(self.year - 1 if month >= 11 else self.year, month, day)

    def month(self, month: int) -> str:
        return f"{self.year}-{month:02d}"

    @staticmethod
    def member(start: date, subsidy: str, premium: str = "100.00") -> EnrollmentSubmitted:
        e = new_enrollment(start, premium=premium)
        aptc = Decimal("0.00" if subsidy == "none" else "300.00")
        return e.model_copy(update={"subsidy": subsidy, "aptc_amount": aptc})

    def renewal(self, start: date, subsidy: str) -> EnrollmentSubmitted:
        e = self.member(start, subsidy)
        return e.model_copy(update={"renewal_of": f"RefID{int(e.enrollment_id[5:]) - 1}"})

    @property
    def renewals(self) -> list[EnrollmentSubmitted]:
        return [self.unsubsidized, self.unsubsidized_late, self.connectorcare, self.aptc_cures, self.returned]

    @property
    def everyone(self) -> list[EnrollmentSubmitted]:
        return [*self.renewals, self.binder_on_23rd, self.binder_on_24th, self.zero_premium]


async def notices(e: EnrollmentSubmitted, count: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = await coverage_events(e, "AccountDelinquent")
        return found if len(found) >= count else None

    found: list[dict[str, Any]] = await eventually(probe, timeout=60, interval=0.5, what=f"{count} notices")
    assert len(found) == count, f"exactly {count} notices, found {[n['notice'] for n in found]}"
    return found


async def reinstatement(e: EnrollmentSubmitted) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(f"{COVERAGE}/v1/enrollments/{e.enrollment_id}/reinstatement", headers=member_auth(e))


@pytest.fixture(scope="module")
async def cast() -> Cast:
    today = business_date()
    c = Cast(plan_year(today))
    advance_to(c.day(11, 1))
    for e in c.everyone:
        await submit_enrollment(e)
    for e in (c.binder_on_23rd, c.binder_on_24th):
        await one_record("coverage.events", e.enrollment_id, "coverage.InvoiceIssued.v1")
    await one_record("coverage.events", c.zero_premium.enrollment_id, "coverage.CoverageActivated.v1")
    return c


async def test_d4_a_zero_premium_enrollment_is_active_at_once_with_no_invoice(cast: Cast) -> None:
    e = cast.zero_premium
    [activated] = await coverage_events(e, "CoverageActivated")
    assert (activated["coverage_start"], activated["payment_id"]) == (f"{cast.year}-02-01", None)
    assert await coverage_events(e, "InvoiceIssued") == []
    assert (await enrollment_view(e))["status"] == "active"


async def test_r1_14_renewals_owe_no_binder_and_get_the_january_bill_on_december_1(cast: Cast) -> None:
    for e in cast.renewals:
        view = await enrollment_view(e)
        assert (view["status"], view["next_due_date"]) == ("active", cast.day(12, 23).isoformat())
        assert await coverage_events(e, "InvoiceIssued") == [], "no binder invoice for a renewal"
    advance_to(cast.day(12, 1))
    for e in cast.renewals:
        bill = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.InvoiceIssued.v1"))
        assert (bill["coverage_month"], bill["due_date"], bill["binder"]) == (
            cast.month(1),
            cast.day(12, 23).isoformat(),
            False,
        )
    await pay(cast.returned, "300.00")  # January to March, paid in advance once billed


async def test_r1_14_r2_7_an_unpaid_january_is_delinquent_on_december_24_and_warned_on_january_1(cast: Cast) -> None:
    advance_to(cast.day(12, 23))
    assert (await enrollment_view(cast.unsubsidized))["status"] == "active", "the 23rd itself is on time (R1.2)"
    advance_to(cast.day(12, 24))
    for e in (cast.unsubsidized, cast.connectorcare):
        assert (await enrollment_view(e))["status"] == "delinquent"
        assert await coverage_events(e, "EnrollmentCancelledNoBinder") == [], "R1.14: not cancelled"
    advance_to(cast.day(12, 31))
    assert await coverage_events(cast.connectorcare, "AccountDelinquent") == [], "the notice waits for January"
    advance_to(cast.day(1, 1))
    for e in (cast.unsubsidized, cast.unsubsidized_late, cast.connectorcare, cast.aptc_cures):
        [warning] = await notices(e, 1)
        assert (warning["notice"], warning["first_unpaid_month"], warning["pay_by"], warning["amount_past_due"]) == (
            "past_due_warning",
            cast.month(1),
            cast.day(1, 23).isoformat(),
            "100.00",
        )
    assert await coverage_events(cast.returned, "AccountDelinquent") == [], "paid in advance"


async def test_r1_9_r1_10_a_binder_paid_saturday_the_23rd_activates_and_one_paid_the_24th_is_too_late(
    cast: Cast,
) -> None:
    advance_to(cast.day(1, 23))
    accepted = await pay(cast.binder_on_23rd, "100.00")
    assert accepted["business_date"] == cast.day(1, 23).isoformat(), "counted when accepted (D1), even on a weekend"
    advance_to(cast.day(1, 24))
    late = cast.binder_on_24th
    cancelled = body_of(
        await one_record("coverage.events", late.enrollment_id, "coverage.EnrollmentCancelledNoBinder.v1")
    )
    assert cancelled["coverage_start"] == f"{cast.year}-02-01"

    async def refused() -> httpx.Response | None:
        response = await try_to_pay(late, "100.00")
        return response if response.status_code != 201 else None

    response = await eventually(refused, timeout=60, interval=0.5, what="the late binder refused")
    assert response.status_code in (409, 422) and response.headers["content-type"].startswith("application/problem")
    assert (await enrollment_view(cast.binder_on_23rd))["status"] == "pending_binder", "not cleared before Monday"
    advance_to(date.fromisoformat(accepted["settles_on"]))
    activated = body_of(
        await one_record("coverage.events", cast.binder_on_23rd.enrollment_id, "coverage.CoverageActivated.v1")
    )
    assert (activated["coverage_start"], activated["payment_id"]) == (f"{cast.year}-02-01", accepted["payment_id"])
    assert await coverage_events(late, "CoverageActivated") == []
    assert (await enrollment_view(late))["status"] == "cancelled"


async def test_r1_14_r2_8_the_unpaid_unsubsidized_renewal_is_terminated_on_january_24_back_to_december_31(
    cast: Cast,
) -> None:
    advance_to(cast.day(1, 24))
    for e in (cast.unsubsidized, cast.unsubsidized_late):
        ended = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.CoverageTerminated.v1"))
        assert (ended["end_date"], ended["reason"]) == (cast.day(12, 31).isoformat(), "non_payment")
        assert ended["reinstate_by"] == (cast.day(1, 24) + timedelta(days=35)).isoformat(), "terminated Jan 24"
        assert (await enrollment_view(e))["status"] == "terminated"
    assert (await enrollment_view(cast.connectorcare))["status"] == "delinquent", "R2.7: still in its grace months"


async def test_r2_7_r2_4_an_aptc_member_warned_twice_pays_the_full_balance_in_grace_month_2_and_keeps_coverage(
    cast: Cast,
) -> None:
    advance_to(cast.day(2, 1))
    for e in (cast.connectorcare, cast.aptc_cures):
        warning = (await notices(e, 2))[1]
        assert (warning["notice"], warning["pay_by"], warning["amount_past_due"]) == (
            "termination_warning_1",
            cast.day(2, 23).isoformat(),
            "200.00",
        )
    advance_to(cast.day(2, 10))
    e = cast.aptc_cures
    balance = (await enrollment_view(e))["balance"]
    assert balance == "300.00", "January and February past due, March billed on February 1"
    paid = await pay(e, balance)

    async def applied() -> dict[str, Any] | None:
        found = [b for b in await coverage_events(e, "PaymentApplied") if b["payment_id"] == paid["payment_id"]]
        return found[0] if found else None

    assert (await eventually(applied, timeout=60, interval=0.5, what="PaymentApplied"))["balance"] == "0.00"
    view = await enrollment_view(e)
    assert (view["status"], view["paid_through"]) == ("active", f"{cast.year}-03-31"), "no gap in coverage"


async def test_r2_10_reinstatement_asked_and_paid_on_day_34_is_granted_and_asked_on_day_36_is_refused(
    cast: Cast,
) -> None:
    terminated_on = cast.day(1, 24)
    advance_to(terminated_on + timedelta(days=34))
    asked = await reinstatement(cast.unsubsidized)
    assert asked.status_code == 201, asked.text
    quote = asked.json()
    assert quote["months"] == [cast.month(1), cast.month(2), cast.month(3)], "back to the end date, plus next month"
    assert quote["amount_due"] == "300.00"
    await pay(cast.unsubsidized, quote["amount_due"])
    await one_record("coverage.events", cast.unsubsidized.enrollment_id, "coverage.CoverageReinstated.v1")
    view = await enrollment_view(cast.unsubsidized)
    assert (view["status"], view["end_date"], view["paid_through"]) == ("active", None, f"{cast.year}-03-31")
    advance_to(terminated_on + timedelta(days=36))
    refused = await reinstatement(cast.unsubsidized_late)
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
    assert "February 28" in refused.json()["detail"] or "February 29" in refused.json()["detail"]
    assert (await enrollment_view(cast.unsubsidized_late))["status"] == "terminated"


async def test_r2_7_the_connectorcare_renewal_gets_its_second_termination_warning_on_march_1(cast: Cast) -> None:
    advance_to(cast.day(3, 1))
    warning = (await notices(cast.connectorcare, 3))[2]
    assert (warning["notice"], warning["pay_by"], warning["amount_past_due"]) == (
        "termination_warning_2",
        cast.day(3, 23).isoformat(),
        "300.00",
    )
    assert len(await coverage_events(cast.aptc_cures, "AccountDelinquent")) == 2, "cured: no further warning"


async def test_d7_r5_18_an_r01_return_on_march_25_of_the_april_payment_reverts_april_as_of_its_due_date(
    cast: Cast,
) -> None:
    e = cast.returned
    [april] = [b for b in await coverage_events(e, "InvoiceIssued") if b["coverage_month"] == cast.month(4)]
    assert (april["past_due"], april["total_due"], april["due_date"]) == ("0.00", "100.00", cast.day(3, 23).isoformat())
    advance_to(cast.day(3, 23))
    paid = await pay(e, "100.00", R01_ACCOUNT)
    assert (await enrollment_view(cast.connectorcare))["status"] == "delinquent", "Mar 23 is still in time"
    advance_to(cast.day(3, 25))

    async def returned() -> list[dict[str, Any]] | None:
        found = [
            body_of(r)
            for r in await records_for("payments.events", e.enrollment_id, "payments.PaymentReturned.v1")
            if body_of(r)["payment_id"] == paid["payment_id"]
        ]
        return found or None

    [ret] = await eventually(returned, timeout=60, interval=0.5, what="PaymentReturned")
    assert (ret["return_code"], ret["returned_on"]) == ("R01", cast.day(3, 25).isoformat())

    async def reverted() -> dict[str, Any] | None:
        view = await enrollment_view(e)
        return view if view["status"] == "delinquent" else None

    view = await eventually(reverted, timeout=60, interval=0.5, what="April reverted")
    assert (view["paid_through"], view["balance"]) == (f"{cast.year}-03-31", "100.00")
    assert await coverage_events(e, "AccountDelinquent") == [], "the notice goes out with the May bill"
    advance_to(cast.day(4, 1))
    [warning] = await notices(e, 1)
    assert (warning["notice"], warning["first_unpaid_month"], warning["pay_by"], warning["amount_past_due"]) == (
        "past_due_warning",
        cast.month(4),
        cast.day(4, 23).isoformat(),
        "100.00",
    )


async def test_r2_3_r2_7_the_connectorcare_renewal_is_terminated_on_march_24_back_to_january_31(cast: Cast) -> None:
    advance_to(cast.day(3, 24))
    e = cast.connectorcare
    ended = body_of(await one_record("coverage.events", e.enrollment_id, "coverage.CoverageTerminated.v1"))
    assert (ended["end_date"], ended["reason"]) == (f"{cast.year}-01-31", "non_payment_after_grace")
    assert ended["reinstate_by"] == (cast.day(3, 24) + timedelta(days=35)).isoformat(), "terminated on March 24"
    view = await enrollment_view(e)
    assert (view["status"], view["paid_through"]) == ("terminated", f"{cast.year}-01-31")
