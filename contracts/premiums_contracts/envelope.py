"""CloudEvents 1.0 in Kafka binary mode: attributes travel as `ce_*` headers, the body is the event's JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from premiums_contracts.ids import uuid7

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")


class EnvelopeError(ValueError):
    """A record whose headers are not a valid CloudEvents binary-mode envelope."""


def _new_id() -> str:
    return str(uuid7())  # time-ordered: the inboxes and outboxes that key on it insert at their index's edge


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    subject: str
    id: str = field(default_factory=_new_id)
    time: datetime = field(default_factory=_now)
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None

    def __post_init__(self) -> None:
        if self.correlation_id is None:
            object.__setattr__(self, "correlation_id", self.id)

    def caused(self, *, type: str, source: str, subject: str) -> Envelope:
        """The envelope of an event caused by this one: same flow, this event as its cause."""
        return Envelope(
            type=type,
            source=source,
            subject=subject,
            correlation_id=self.correlation_id,
            causation_id=self.id,
            traceparent=self.traceparent,
        )

    def with_id(self, event_id: str) -> Envelope:
        return replace(self, id=event_id)

    def to_headers(self) -> list[tuple[str, bytes]]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.isoformat(),
            "ce_subject": self.subject,
            "content-type": CONTENT_TYPE,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "traceparent": self.traceparent,
        }
        return [(k, v.encode()) for k, v in headers.items() if v is not None]

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes | None]] | Mapping[str, bytes]) -> Envelope:
        items = headers.items() if isinstance(headers, Mapping) else headers
        values = {k: (v or b"").decode("utf-8", "replace") for k, v in items}
        missing = [name for name in REQUIRED_HEADERS if not values.get(name)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents header(s): {', '.join(missing)}")
        if values["ce_specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"unsupported ce_specversion {values['ce_specversion']!r}, expected 1.0")
        try:
            time = datetime.fromisoformat(values["ce_time"])
        except ValueError as exc:
            raise EnvelopeError(f"ce_time {values['ce_time']!r} is not an RFC 3339 timestamp") from exc
        return cls(
            type=values["ce_type"],
            source=values["ce_source"],
            subject=values.get("ce_subject", ""),
            id=values["ce_id"],
            time=time,
            correlation_id=values.get("correlation_id") or None,
            causation_id=values.get("causation_id") or None,
            traceparent=values.get("traceparent") or None,
        )
