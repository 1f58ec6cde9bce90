"""Identifiers that sort by the time they were made: UUID version 7 (RFC 9562 §5.7).

An event's `ce_id` and a notice's id are primary keys in the databases that store them (the inbox of every
consumer, the outbox, the notifications table). A random UUID (version 4) sends each insert to a random leaf
of the key's index, so a busy hour dirties pages all over it; a version-7 UUID starts with the time in
milliseconds, so inserts land at the right edge of the index, a few pages at a time. The other 74 bits are
random, so two ids made in the same millisecond still differ (and are as hard to guess as before).
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """48 bits of Unix time in milliseconds, the version (7), 74 random bits and the RFC 4122 variant."""
    millis = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (random >> 68 & 0xFFF) << 64 | 0b10 << 62
    return uuid.UUID(int=value | random & 0x3FFF_FFFF_FFFF_FFFF)
