"""The one declarative list of topics (ARCHITECTURE §2): every topic is created from here, never auto-created."""

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key: str
    retention_ms: int = 30 * DAY_MS

    @property
    def domain(self) -> str:
        """The first part of the name, used in `ce_type` (`payments.PaymentCleared.v1`)."""
        return self.name.split(".", 1)[0]

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlq"


ENROLLMENT_EVENTS = Topic("enrollment.events", 12, "enrollment_id")
PAYMENTS_COMMANDS = Topic("payments.commands", 12, "enrollment_id")
PAYMENTS_EVENTS = Topic("payments.events", 12, "enrollment_id")
COVERAGE_EVENTS = Topic("coverage.events", 12, "enrollment_id")
AUTOPAY_EVENTS = Topic("autopay.events", 12, "enrollment_id")
NOTIFICATIONS_EVENTS = Topic("notifications.events", 12, "member_id")
CLOCK_EVENTS = Topic("clock.events", 1, "clock", retention_ms=-1)

TOPICS: tuple[Topic, ...] = (
    ENROLLMENT_EVENTS,
    PAYMENTS_COMMANDS,
    PAYMENTS_EVENTS,
    COVERAGE_EVENTS,
    AUTOPAY_EVENTS,
    NOTIFICATIONS_EVENTS,
    CLOCK_EVENTS,
)


def all_topics_with_dead_letters() -> list[Topic]:
    """Every topic and its `<topic>.dlq` twin (same partitions, so a key keeps its partition)."""
    dlqs = [Topic(t.dead_letter, t.partitions, t.key, retention_ms=-1) for t in TOPICS]
    return [*TOPICS, *dlqs]
