"""What a consumer parses: the events it acts on, fully; a known type it does not act on, not at all."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord
from premiums_common import parking
from premiums_common.consumer import Incoming, Poison, decode
from premiums_contracts import Envelope
from premiums_contracts.events import CoverageActivated, PaymentCleared


def record(ce_type: str, body: bytes, *, replay: bool = False) -> ConsumerRecord:
    headers = Envelope(type=ce_type, source="/test", subject="E1").to_headers()
    if replay:
        headers.append((parking.REPLAY_HEADER, b"1"))
    return ConsumerRecord("payments.events", 0, 7, 0, 0, b"E1", body, None, len(body), len(body), headers)


BROKEN = b'{"payment_id": "P-1", "amount": "abc"}'
GOOD = b'{"payment_id": "P-1", "enrollment_id": "E1", "member_id": "M1", "amount": "10.00", "cleared_on": "2027-01-02"}'


def test_a_known_event_the_consumer_does_not_act_on_is_not_parsed() -> None:
    assert decode(record(PaymentCleared.ce_type(), BROKEN), {CoverageActivated}) is None


def test_an_event_the_consumer_acts_on_is_parsed_and_a_broken_body_is_poison() -> None:
    poison = decode(record(PaymentCleared.ce_type(), BROKEN), {PaymentCleared})
    assert isinstance(poison, Poison) and poison.reason.startswith("body does not match")
    good = decode(record(PaymentCleared.ce_type(), GOOD), {PaymentCleared})
    assert isinstance(good, Incoming) and good.event.payment_id == "P-1"


def test_an_unknown_type_and_a_replay_are_always_looked_at() -> None:
    unknown = decode(record("payments.NoSuchEvent.v1", GOOD), {CoverageActivated})
    assert isinstance(unknown, Poison) and not unknown.holds_key
    replayed = decode(record(PaymentCleared.ce_type(), BROKEN, replay=True), {CoverageActivated})
    assert isinstance(replayed, Poison), "a replayed record goes through, so its parked key is released"
