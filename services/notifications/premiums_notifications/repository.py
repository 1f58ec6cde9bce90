"""SQL for notifications: contacts and the delivery log."""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeAlias

import asyncpg
from premiums_contracts.events import MemberContact

from premiums_notifications.domain.catalogue import Notice

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


async def upsert_member(con: Db, member_id: str, contact: MemberContact) -> None:
    await con.execute(
        """
        INSERT INTO members (member_id, first_name, last_name, email, phone, language) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (member_id) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
            email = EXCLUDED.email, phone = EXCLUDED.phone, language = EXCLUDED.language, updated_at = now()
        """,
        member_id,
        contact.first_name,
        contact.last_name,
        contact.email,
        contact.phone,
        contact.language,
    )


async def queue(con: Db, notices: list[Notice], triggered_by: str, correlation_id: str | None) -> int:
    """Queue notices; one already queued under the same dedupe key is left alone (exactly once)."""
    rows = [
        (
            f"ntf_{uuid.uuid4().hex}",
            n.member_id,
            n.kind,
            n.dedupe_key,
            json.dumps(n.facts),
            triggered_by,
            correlation_id,
        )
        for n in notices
    ]
    if not rows:
        return 0
    await con.executemany(
        """
        INSERT INTO notifications (notification_id, member_id, kind, dedupe_key, facts, triggered_by, correlation_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING
        """,
        rows,
    )
    await con.execute("NOTIFY notifications")
    return len(rows)


async def claim_due(con: asyncpg.Connection, limit: int, lease_seconds: int) -> list[Any]:
    """Lease pending notices to this sender; replicas skip rows another one holds (SKIP LOCKED)."""
    return list(
        await con.fetch(
            """
        WITH due AS (
            SELECT notification_id FROM notifications
            WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
        )
        UPDATE notifications n SET next_attempt_at = now() + make_interval(secs => $2), attempts = attempts + 1
        FROM due WHERE n.notification_id = due.notification_id
        RETURNING n.*, (SELECT row_to_json(m) FROM members m WHERE m.member_id = n.member_id) AS member
        """,
            limit,
            lease_seconds,
        )
    )


async def mark_sent(con: Db, notification_id: str, language: str, subject: str, answer: str) -> None:
    await con.execute(
        """
        UPDATE notifications SET status = 'sent', sent_at = now(), language = $2, subject = $3, provider_response = $4
        WHERE notification_id = $1
        """,
        notification_id,
        language,
        subject,
        answer,
    )


async def mark_failed(con: Db, notification_id: str, reason: str) -> None:
    await con.execute(
        "UPDATE notifications SET status = 'failed', provider_response = $2 WHERE notification_id = $1",
        notification_id,
        reason,
    )


async def postpone(con: Db, notification_id: str, seconds: float, reason: str) -> None:
    await con.execute(
        """
        UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $2), provider_response = $3
        WHERE notification_id = $1
        """,
        notification_id,
        seconds,
        reason,
    )


async def of_member(con: Db, member_id: str) -> list[Any]:
    return list(
        await con.fetch(
            """
        SELECT notification_id, kind, channel, status, language, subject, created_at, sent_at, provider_response
        FROM notifications WHERE member_id = $1 ORDER BY created_at
        """,
            member_id,
        )
    )
