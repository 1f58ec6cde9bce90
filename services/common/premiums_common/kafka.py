"""The Kafka app factory: safe defaults for every broker, producer and subscriber (ARCHITECTURE §6).

- producers are idempotent with `acks=all`;
- subscribers acknowledge only after the handler (and its database transaction) finished:
  `AckPolicy.NACK_ON_ERROR`, never FastStream's at-most-once acknowledge-first default;
- topics are never auto-created by a client: they come from the contracts' declarative list.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

SAFE_ACK_POLICY = AckPolicy.NACK_ON_ERROR


def make_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        allow_auto_create_topics=False,
        ack_policy=SAFE_ACK_POLICY,
        graceful_timeout=20.0,
        apply_types=False,
        logger=logging.getLogger("premiums.kafka"),
        log_level=logging.DEBUG,
    )


def make_producer(bootstrap_servers: str, *, client_id: str, **overrides: Any) -> AIOKafkaProducer:
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "client_id": client_id,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 30_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)
