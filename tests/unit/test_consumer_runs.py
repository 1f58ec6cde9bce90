"""How a consumer cuts a batch into runs for set-based handlers (ARCHITECTURE §6: per-key order is kept)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from premiums_common.consumer import Incoming, runs
from premiums_contracts import Envelope
from premiums_contracts.events import PaymentCleared, PaymentSubmitted


def cleared(key: str) -> PaymentCleared:
    return PaymentCleared(
        payment_id=f"pay_{key}", enrollment_id=key, member_id="M1", amount=Decimal("10.00"), cleared_on=date(2027, 1, 2)
    )


def incoming(event: Any, key: str, topic: str = "payments.events") -> Incoming:
    envelope = Envelope(type=event.ce_type(), source="/test", subject=key)
    return Incoming(envelope, event, topic, 0, 0, key, None)  # type: ignore[arg-type]


def shape(batch: list[Incoming]) -> list[list[str]]:
    return [[f"{type(e.event).__name__[7]}{e.key}" for e in run] for run in runs(batch, {PaymentCleared})]


def submitted(key: str) -> PaymentSubmitted:
    return PaymentSubmitted.model_validate(
        {
            "payment_id": f"pay_s{key}",
            "confirmation_number": "C1",
            "enrollment_id": key,
            "member_id": "M1",
            "amount": "10.00",
            "channel": "portal",
            "method": "ach_debit",
            "account_last4": "6666",
            "received_at": "2027-01-01T12:00:00-05:00",
            "business_date": "2027-01-01",
            "coverage_month": "2027-02",
        }
    )


def test_consecutive_events_of_a_batched_type_are_one_run() -> None:
    batch = [incoming(cleared(k), k) for k in "abc"]
    assert shape(batch) == [["Ca", "Cb", "Cc"]]


def test_a_key_seen_twice_starts_a_new_run_so_a_handler_sees_each_enrollment_once() -> None:
    batch = [incoming(cleared(k), k) for k in "abac"]
    assert shape(batch) == [["Ca", "Cb"], ["Ca", "Cc"]]


def test_another_type_cuts_the_run_and_is_handled_alone_in_its_place() -> None:
    batch = [incoming(cleared("a"), "a"), incoming(submitted("b"), "b"), incoming(cleared("c"), "c")]
    assert shape(batch) == [["Ca"], ["Sb"], ["Cc"]]


def test_types_without_a_batch_handler_are_never_grouped() -> None:
    batch = [incoming(submitted(k), k) for k in "ab"]
    assert shape(batch) == [["Sa"], ["Sb"]]


def test_order_is_the_batch_order() -> None:
    batch = [incoming(cleared(k), k) for k in "xyzxw"]
    flat = [e.key for run in runs(batch, {PaymentCleared}) for e in run]
    assert flat == list("xyzxw")
