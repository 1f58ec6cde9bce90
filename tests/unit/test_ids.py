"""Time-ordered ids (`premiums_contracts.ids`): valid version-7 UUIDs that sort by when they were made."""

from __future__ import annotations

import itertools
import time
import uuid

from premiums_contracts.envelope import Envelope
from premiums_contracts.ids import uuid7


def test_a_uuid7_is_a_version_7_rfc_4122_uuid_holding_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid7()
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert uuid.UUID(str(made)) == made


def test_uuid7s_sort_by_time_and_never_repeat() -> None:
    first = [uuid7() for _ in range(2_000)]
    time.sleep(0.002)
    later = uuid7()
    assert len({u.int for u in first}) == len(first), "74 random bits: no two alike"
    assert all(str(u) < str(later) for u in first), "a later millisecond sorts after, as text too"
    assert all((a.int >> 80) <= (b.int >> 80) for a, b in itertools.pairwise(first))


def test_an_event_id_is_a_uuid7() -> None:
    envelope = Envelope(type="t", source="/s", subject="x")
    assert uuid.UUID(envelope.id).version == 7
