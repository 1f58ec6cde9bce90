"""Parked keys: once a record is dead-lettered, later records of its key follow it, so none overtakes it.

A replayed record (header `dlq_replay`) is processed even though its key is parked, and releases one place;
the key is free again when every held record has come back.
"""

from __future__ import annotations

import asyncpg

REPLAY_HEADER = "dlq_replay"

ParkedKey = tuple[str, str]


async def parked(pool: asyncpg.Pool, consumer: str) -> set[ParkedKey]:
    rows = await pool.fetch("SELECT topic, key FROM parked_keys WHERE consumer = $1", consumer)
    return {(r["topic"], r["key"]) for r in rows}


async def hold(pool: asyncpg.Pool, consumer: str, topic: str, key: str, *, count: int = 1) -> None:
    await pool.execute(
        """
        INSERT INTO parked_keys (consumer, topic, key, held) VALUES ($1, $2, $3, greatest($4, 1))
        ON CONFLICT (consumer, topic, key) DO UPDATE SET held = parked_keys.held + $4
        """,
        consumer,
        topic,
        key,
        count,
    )


async def release_one(con: asyncpg.Connection, consumer: str, topic: str, key: str) -> None:
    """Called in the transaction that processes a replayed record."""
    await con.execute(
        """
        WITH released AS (
            UPDATE parked_keys SET held = held - 1
            WHERE consumer = $1 AND topic = $2 AND key = $3 AND held > 1
            RETURNING 1
        )
        DELETE FROM parked_keys
        WHERE consumer = $1 AND topic = $2 AND key = $3 AND held = 1 AND NOT EXISTS (SELECT 1 FROM released)
        """,
        consumer,
        topic,
        key,
    )
