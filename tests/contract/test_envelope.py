"""The CloudEvents envelope, ce_type naming and the field conventions of ARCHITECTURE §2."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from premiums_contracts import TOPICS, Envelope, EnvelopeError
from premiums_contracts.events import ALL_EVENTS, EVENT_TYPES, PaymentCleared, event_class
from pydantic import ValidationError

TOPIC_NAMES = {t.name for t in TOPICS}


def _cleared(amount: object = Decimal("312.40")) -> PaymentCleared:
    return PaymentCleared.model_validate(
        {"payment_id": "pay-1", "enrollment_id": "enr-1", "amount": amount, "cleared_on": "2026-01-05"}
    )


# -- envelope ---------------------------------------------------------------------------------------


def test_envelope_round_trips_through_headers() -> None:
    envelope = Envelope(
        type="payments.PaymentCleared.v1",
        source="/premiums/payments",
        subject="enr-1",
        time=datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
        causation_id="cause-1",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    headers = envelope.to_headers()
    names = [name for name, _ in headers]
    assert names[:7] == [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "content-type",
    ]
    assert dict(headers)["ce_specversion"] == b"1.0"
    assert dict(headers)["content-type"] == b"application/json"
    assert all(isinstance(v, bytes) for _, v in headers)
    assert Envelope.from_headers(headers) == envelope
    assert Envelope.from_headers(dict(headers)) == envelope


def test_envelope_defaults_and_causation() -> None:
    first = Envelope(type="payments.PaymentCleared.v1", source="/premiums/payments", subject="enr-1")
    assert first.correlation_id == first.id
    assert first.time.tzinfo is not None
    headers = dict(first.to_headers())
    assert "causation_id" not in headers and "traceparent" not in headers
    caused = first.caused(type="coverage.CoverageActivated.v1", source="/premiums/coverage", subject="enr-1")
    assert caused.causation_id == first.id
    assert caused.correlation_id == first.correlation_id
    assert caused.id != first.id


def _headers(**overrides: bytes | None) -> list[tuple[str, bytes | None]]:
    base = dict(Envelope(type="clock.BusinessDateAdvanced.v1", source="/premiums/clock", subject="clock").to_headers())
    base.update(overrides)  # type: ignore[arg-type]
    return [(k, v) for k, v in base.items() if v is not None]


@pytest.mark.parametrize("missing", ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"])
def test_from_headers_refuses_missing_header(missing: str) -> None:
    with pytest.raises(EnvelopeError, match=missing):
        Envelope.from_headers(_headers(**{missing: None}))


def test_from_headers_refuses_empty_header() -> None:
    with pytest.raises(EnvelopeError, match="ce_id"):
        Envelope.from_headers(_headers(ce_id=b""))


def test_from_headers_refuses_wrong_specversion() -> None:
    with pytest.raises(EnvelopeError, match="specversion"):
        Envelope.from_headers(_headers(ce_specversion=b"0.3"))


@pytest.mark.parametrize("bad", [b"yesterday", b"2026-13-01T00:00:00Z", b"05/01/2026"])
def test_from_headers_refuses_bad_time(bad: bytes) -> None:
    with pytest.raises(EnvelopeError, match="ce_time"):
        Envelope.from_headers(_headers(ce_time=bad))


def test_envelope_error_is_a_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)


# -- ce_type naming ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)
def test_ce_type_naming(model: type) -> None:
    ce_type = model.ce_type()  # type: ignore[attr-defined]
    assert re.fullmatch(r"[a-z]+\.[A-Z][A-Za-z0-9]*\.v1", ce_type), ce_type
    domain, name, _ = ce_type.split(".")
    assert name == model.__name__
    assert model.topic in TOPIC_NAMES  # type: ignore[attr-defined]
    assert domain == model.topic.split(".")[0]  # type: ignore[attr-defined]
    assert EVENT_TYPES[ce_type] is model
    assert event_class(ce_type) is model


def test_known_ce_types() -> None:
    assert {
        "payments.PaymentCleared.v1",
        "payments.RequestPayment.v1",
        "enrollment.EnrollmentSubmitted.v1",
        "clock.BusinessDateAdvanced.v1",
    } <= set(EVENT_TYPES)
    assert EVENT_TYPES["payments.RequestPayment.v1"].topic == "payments.commands"
    assert event_class("payments.NoSuchEvent.v1") is None


def test_ce_types_are_unique() -> None:
    assert len(EVENT_TYPES) == len(ALL_EVENTS)


# -- field conventions ------------------------------------------------------------------------------


def test_money_serializes_as_a_string_with_two_decimals() -> None:
    event = _cleared(Decimal("312.4"))
    assert event.amount == Decimal("312.40")
    body = json.loads(event.model_dump_json())
    assert body["amount"] == "312.40"
    assert event.model_dump(mode="json")["amount"] == "312.40"
    assert json.loads(_cleared("7").model_dump_json())["amount"] == "7.00"


def test_money_parses_from_its_json_string() -> None:
    event = PaymentCleared.model_validate_json(
        '{"payment_id": "p", "enrollment_id": "e", "amount": "312.40", "cleared_on": "2026-01-05"}'
    )
    assert event.amount == Decimal("312.40")
    assert event.cleared_on == date(2026, 1, 5)


@pytest.mark.parametrize("amount", [Decimal("312.401"), "312.405", 0.1 + 0.2, "NaN", "Infinity"])
def test_money_refuses_more_than_two_decimals(amount: object) -> None:
    with pytest.raises(ValidationError):
        _cleared(amount)


def test_unknown_fields_are_ignored_on_parse() -> None:
    event = PaymentCleared.model_validate_json(
        '{"payment_id": "p", "enrollment_id": "e", "amount": "1.00", "cleared_on": "2026-01-05",'
        ' "added_in_a_later_version": {"x": 1}}'
    )
    assert "added_in_a_later_version" not in event.model_dump()


def test_events_are_immutable() -> None:
    event = _cleared()
    with pytest.raises(ValidationError):
        event.amount = Decimal("1.00")


def test_dates_and_timestamps() -> None:
    submitted = EVENT_TYPES["payments.PaymentSubmitted.v1"].model_validate(
        {
            "payment_id": "p",
            "confirmation_number": "C1",
            "enrollment_id": "e",
            "member_id": "m",
            "amount": "10.00",
            "channel": "portal",
            "method": "ach_debit",
            "account_last4": "6789",
            "received_at": datetime(2026, 1, 5, 14, 0, tzinfo=UTC),
            "business_date": date(2026, 1, 5),
        }
    )
    body = json.loads(submitted.model_dump_json())
    assert body["business_date"] == "2026-01-05"
    assert datetime.fromisoformat(body["received_at"]).utcoffset() == timedelta(0)


def test_coverage_month_is_year_dash_month() -> None:
    scheduled = EVENT_TYPES["autopay.AutopayDraftScheduled.v1"]
    fields = {
        "mandate_id": "md",
        "enrollment_id": "e",
        "draft_date": "2026-02-03",
        "amount": "5.00",
        "amount_changed": False,
    }
    assert scheduled.model_validate({**fields, "coverage_month": "2026-02"})
    for bad in ("2026-2", "2026-13", "202602", "2026-02-01"):
        with pytest.raises(ValidationError):
            scheduled.model_validate({**fields, "coverage_month": bad})


def test_timestamps_need_an_offset() -> None:
    submitted = EVENT_TYPES["payments.PaymentSubmitted.v1"]
    fields = {
        "payment_id": "p",
        "confirmation_number": "C1",
        "enrollment_id": "e",
        "member_id": "m",
        "amount": "10.00",
        "channel": "portal",
        "method": "ach_debit",
        "account_last4": "6789",
        "business_date": "2026-01-05",
    }
    assert submitted.model_validate({**fields, "received_at": "2026-01-05T09:00:00-05:00"})
    with pytest.raises(ValidationError):
        submitted.model_validate({**fields, "received_at": "2026-01-05T09:00:00"})
