"""Public contracts of premiums: topics, the CloudEvents envelope and v1 event models (ARCHITECTURE §2)."""

from premiums_contracts.envelope import Envelope, EnvelopeError
from premiums_contracts.events import EVENT_TYPES, Event, event_class
from premiums_contracts.topics import TOPICS, Topic

__all__ = ["EVENT_TYPES", "TOPICS", "Envelope", "EnvelopeError", "Event", "Topic", "event_class"]
