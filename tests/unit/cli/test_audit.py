"""`premiums audit` finds each kind of breach in facts made up to contain it (ARCHITECTURE §6)."""

from __future__ import annotations

from premiums_cli.audit import Facts, audit


def healthy() -> Facts:
    facts = Facts()
    facts.payments = {"pay_1": "cleared", "pay_2": "returned"}
    facts.ledger = {"pay_1": "cleared", "pay_2": "returned"}
    facts.submitted["pay_1"].add("ce-1")
    facts.submitted["pay_2"].add("ce-2")
    facts.returned[("pay_2", "R01")].add("ce-3")
    facts.confirmations.update({"pay_1": 1, "pay_2": 1})
    facts.contactable = {"pay_1", "pay_2"}
    facts.enrollments = {"RefID1": {"status": "active"}, "RefID2": {"status": "pending_binder"}}
    facts.activated["RefID1"].add("ce-4")
    facts.stale_outbox = {"payments": 0, "coverage": 0}
    facts.dead_letters = 2
    return facts


def breaches(facts: Facts) -> dict[str, list[str]]:
    return {c.name: c.breaches for c in audit(facts) if c.breaches}


def test_a_healthy_system_has_no_breach() -> None:
    assert breaches(healthy()) == {}


def test_a_payment_without_its_event_or_with_two_is_a_breach() -> None:
    facts = healthy()
    facts.submitted["pay_1"].add("ce-dup")
    del facts.submitted["pay_2"]
    found = breaches(facts)["every accepted payment has exactly one PaymentSubmitted"]
    assert found == ["pay_1: 2 PaymentSubmitted events", "pay_2: 0 PaymentSubmitted events"]


def test_a_payment_missing_from_the_ledger_or_not_reversed_is_a_breach() -> None:
    facts = healthy()
    facts.ledger = {"pay_2": "cleared"}
    found = breaches(facts)["every cleared payment applied once, every return reversed once"]
    assert found == [
        "pay_1: cleared in payments, missing from coverage's ledger",
        "pay_2: returned in payments, cleared in coverage's ledger",
    ]


def test_a_return_reported_twice_or_never_is_a_breach() -> None:
    facts = healthy()
    facts.returned[("pay_2", "R01")].add("ce-again")
    assert breaches(facts)["every returned payment reported exactly once"] == ["pay_2 R01: 2 PaymentReturned events"]
    facts = healthy()
    facts.returned.clear()
    assert (
        "pay_2: returned in payments but no PaymentReturned"
        in breaches(facts)["every returned payment reported exactly once"]
    )


def test_a_missing_or_doubled_confirmation_is_a_breach() -> None:
    facts = healthy()
    facts.confirmations["pay_1"] = 0
    assert breaches(facts)["each payment confirmation (N4) exists exactly once"] == ["pay_1: 0 N4 confirmations queued"]


def test_an_enrollment_whose_state_disagrees_with_its_events_is_a_breach() -> None:
    facts = healthy()
    facts.activated["RefID2"].add("ce-5")
    facts.activated["RefID1"].add("ce-6")
    found = breaches(facts)["every enrollment's state agrees with its events"]
    assert found == ["RefID1: activated 2 times", "RefID2: pending its binder but CoverageActivated was published"]


def test_an_active_enrollment_never_activated_is_a_breach_unless_it_is_a_renewal() -> None:
    """R1.14: a renewal continues as active with no binder and no CoverageActivated; anything else active
    without one is a breach."""
    facts = healthy()
    facts.enrollments["RefID3"] = {"status": "active"}
    facts.enrollments["RefID4"] = {"status": "active"}
    facts.renewals.add("RefID4")
    assert breaches(facts)["every enrollment's state agrees with its events"] == ["RefID3: active but never activated"]


def test_stale_outbox_rows_and_reasonless_dead_letters_are_breaches() -> None:
    facts = healthy()
    facts.stale_outbox["coverage"] = 3
    facts.dead_letters_without_reason = ["payments.events.dlq@4:17"]
    found = breaches(facts)
    assert found["every outbox row was published"] == ["coverage: 3 outbox rows older than 60 s"]
    assert found["every dead-lettered record states its reason"] == ["payments.events.dlq@4:17: no dlq_reason header"]
