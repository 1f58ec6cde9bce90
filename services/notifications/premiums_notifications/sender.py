"""Delivers queued notices: lease due rows, render, send, record the answer (and `NotificationSent`).

Delivery is at least once towards SMTP: a crash after the server accepted a message but before the
row is marked sent re-sends it once the lease expires, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiosmtplib
from premiums_common.outbox import Outgoing, add, envelope_for
from premiums_common.service import Service
from premiums_contracts import Envelope
from premiums_contracts.events import NotificationFailed, NotificationSent

from premiums_notifications import repository as repo
from premiums_notifications.email import SmtpChannel, build_message
from premiums_notifications.renderer import render

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BATCH = 50
LEASE_SECONDS = 60


def backoff_seconds(attempts: int) -> float:
    return float(min(300, 2 ** min(attempts, 9)))


class Sender:
    def __init__(self, service: Service, channel: SmtpChannel, *, idle_sleep: float = 0.3) -> None:
        self.service = service
        self.channel = channel
        self.idle_sleep = idle_sleep

    async def run(self) -> None:
        while True:
            sent = await self.deliver_due()
            if sent == 0:
                await asyncio.sleep(self.idle_sleep)

    async def deliver_due(self) -> int:
        async with self.service.pool.acquire() as con, con.transaction():
            rows = await repo.claim_due(con, BATCH, LEASE_SECONDS)
        if not rows:
            return 0
        smtp = self.channel.connect()
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            for row in rows:
                await self._retry_or_fail(row, f"SMTP server unreachable: {exc}")
            return 0
        try:
            for row in rows:
                await self._deliver(smtp, row)
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()
        return len(rows)

    async def _deliver(self, smtp: aiosmtplib.SMTP, row: Any) -> None:
        member = json.loads(row["member"]) if row["member"] else None
        if member is None:
            await self._retry_or_fail(row, "no contact details for this member yet")
            return
        if not member.get("email"):
            await self._fail(row, "no email address on file")
            return
        facts = {
            **json.loads(row["facts"]),
            "first_name": member["first_name"],
            "last_name": member["last_name"],
        }
        rendered = render(row["kind"], member["language"], facts)
        try:
            _, answer = await smtp.send_message(build_message(row["notification_id"], member["email"], rendered))
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self._retry_or_fail(row, f"SMTP error: {exc}")
            return
        event = NotificationSent(
            notification_id=row["notification_id"],
            member_id=row["member_id"],
            kind=row["kind"],
            channel="email",
            language=member["language"],
            triggered_by=row["triggered_by"],
        )
        async with self.service.pool.acquire() as con, con.transaction():
            await repo.mark_sent(con, row["notification_id"], member["language"], rendered.subject, answer)
            await add(con, [self._outgoing(event, row)])
        log.info("notice sent", extra={"notification_id": row["notification_id"], "kind": row["kind"]})

    async def _retry_or_fail(self, row: Any, reason: str) -> None:
        if row["attempts"] >= MAX_ATTEMPTS:
            await self._fail(row, reason)
        else:
            await repo.postpone(self.service.pool, row["notification_id"], backoff_seconds(row["attempts"]), reason)

    async def _fail(self, row: Any, reason: str) -> None:
        event = NotificationFailed(
            notification_id=row["notification_id"],
            member_id=row["member_id"],
            kind=row["kind"],
            channel="email",
            reason=reason,
            triggered_by=row["triggered_by"],
        )
        async with self.service.pool.acquire() as con, con.transaction():
            await repo.mark_failed(con, row["notification_id"], reason)
            await add(con, [self._outgoing(event, row)])
        log.warning("notice failed", extra={"notification_id": row["notification_id"], "reason": reason})

    def _outgoing(self, event: NotificationSent | NotificationFailed, row: Any) -> Outgoing:
        if row["correlation_id"]:
            envelope = Envelope(
                type=event.ce_type(),
                source=self.service.source,
                subject=row["member_id"],
                correlation_id=row["correlation_id"],
                causation_id=row["triggered_by"],
            )
        else:
            envelope = envelope_for(event, source=self.service.source, key=row["member_id"])
        return Outgoing(event, envelope)
