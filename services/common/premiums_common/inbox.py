"""The inbox (ARCHITECTURE §6): processed `ce_id`s recorded in the transaction of the effect."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg


async def claim(con: asyncpg.Connection, consumer: str, ce_ids: Iterable[str]) -> set[str]:
    """Record the ids as processed and return those seen for the first time (one statement per batch).

    Runs inside the caller's transaction: if the effect rolls back, so does the claim.
    """
    ids = list(dict.fromkeys(ce_ids))
    if not ids:
        return set()
    rows = await con.fetch(
        """
        INSERT INTO inbox (consumer, ce_id)
        SELECT $1, unnest($2::text[])
        ON CONFLICT DO NOTHING
        RETURNING ce_id
        """,
        consumer,
        ids,
    )
    return {r["ce_id"] for r in rows}
