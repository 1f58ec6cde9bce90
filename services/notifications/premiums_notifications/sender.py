"""Delivers queued notices: lease due rows, render, send on their channel, record the answer and publish
`NotificationSent` / `NotificationFailed` in the same transaction.

Delivery is at least once towards the provider: a crash after the SMTP server accepted a message but before
the row is marked sent re-sends it once the lease expires, with the same Message-ID. An unreachable provider
only postpones the row (exponential backoff); the row stays the one copy of the notice, so when the server
comes back each notice goes out once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from itertools import groupby
from typing import Any, cast

import asyncpg
from opentelemetry.trace import SpanKind
from premiums_common.metrics import NOTICES_SENT
from premiums_common.outbox import Outgoing, add, resumed
from premiums_common.tracing import context_from, current_traceparent, tracer
from premiums_contracts.events import NotificationFailed, NotificationSent
from premiums_contracts.events.notifications import NoticeChannel

from premiums_notifications import repository as repo
from premiums_notifications.channels import Channel, Outbound, Send, Unavailable, Undeliverable
from premiums_notifications.domain.preferences import Preferences, language_of
from premiums_notifications.renderer import render

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BATCH = 50
LEASE_SECONDS = 60


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 ... seconds, at most 5 minutes between attempts."""
    return float(min(300, 2 ** min(attempts, 9)))


class Sender:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        source: str,
        channels: Mapping[str, Channel],
        *,
        idle_sleep: float = 0.3,
        backoff: Callable[[int], float] = backoff_seconds,
    ) -> None:
        self.pool = pool
        self.source = source
        self.channels = channels
        self.idle_sleep = idle_sleep
        self.backoff = backoff

    async def run(self) -> None:
        while True:
            sent = await self.deliver_due()
            if sent == 0:
                await asyncio.sleep(self.idle_sleep)

    async def deliver_due(self) -> int:
        async with self.pool().acquire() as con, con.transaction():
            rows = await repo.claim_due(con, BATCH, LEASE_SECONDS)
        delivered = 0
        for channel_name, group in groupby(sorted(rows, key=lambda r: r["channel"]), key=lambda r: r["channel"]):
            batch = list(group)
            channel = self.channels[channel_name]
            channel_name = cast(NoticeChannel, channel_name)
            try:
                async with channel.session() as send:
                    for row in batch:
                        delivered += await self._deliver(send, channel_name, row)
            except Unavailable as exc:
                for row in batch:
                    await self._retry_or_fail(row, channel_name, str(exc))
        return delivered

    async def _deliver(self, send: Send, channel: NoticeChannel, row: Any) -> int:
        with tracer.start_as_current_span(
            f"deliver {row['kind']} by {channel}",
            context=context_from(row["traceparent"]),
            kind=SpanKind.PRODUCER,
            attributes={"premiums.notification_id": row["notification_id"], "premiums.kind": row["kind"]},
        ):
            return await self._deliver_in_span(send, channel, row)

    async def _deliver_in_span(self, send: Send, channel: NoticeChannel, row: Any) -> int:
        member = json.loads(row["member"]) if row["member"] else None
        if member is None:
            await self._retry_or_fail(row, channel, "no contact details for this member yet")
            return 0
        language = language_of(Preferences(language=row["preferred_language"]), member.get("language"))
        facts = {**json.loads(row["facts"]), "first_name": member["first_name"], "last_name": member["last_name"]}
        rendered = render(row["kind"], language, facts)
        try:
            answer = await send(Outbound(row["notification_id"], row["member_id"], row["kind"], member, rendered))
        except Undeliverable as exc:
            await self._fail(row, channel, str(exc))
            return 0
        except Unavailable as exc:
            await self._retry_or_fail(row, channel, str(exc))
            return 0
        event = NotificationSent(
            notification_id=row["notification_id"],
            member_id=row["member_id"],
            kind=row["kind"],
            channel=channel,
            language=language,
            triggered_by=row["triggered_by"],
        )
        async with self.pool().acquire() as con, con.transaction():
            await repo.mark_sent(con, row["notification_id"], language, rendered.subject, answer)
            await add(con, [self._outgoing(event, row)])
        NOTICES_SENT.labels(row["kind"], channel).inc()
        log.info(
            "notice sent", extra={"notification_id": row["notification_id"], "kind": row["kind"], "channel": channel}
        )
        return 1

    async def _retry_or_fail(self, row: Any, channel: NoticeChannel, reason: str) -> None:
        if row["attempts"] >= MAX_ATTEMPTS:
            await self._fail(row, channel, reason)
        else:
            await repo.postpone(self.pool(), row["notification_id"], self.backoff(row["attempts"]), reason)

    async def _fail(self, row: Any, channel: NoticeChannel, reason: str) -> None:
        event = NotificationFailed(
            notification_id=row["notification_id"],
            member_id=row["member_id"],
            kind=row["kind"],
            channel=channel,
            reason=reason,
            triggered_by=row["triggered_by"],
        )
        async with self.pool().acquire() as con, con.transaction():
            await repo.mark_failed(con, row["notification_id"], reason)
            await add(con, [self._outgoing(event, row)])
        log.warning("notice failed", extra={"notification_id": row["notification_id"], "reason": reason})

    def _outgoing(self, event: NotificationSent | NotificationFailed, row: Any) -> Outgoing:
        return resumed(
            event,
            source=self.source,
            key=row["member_id"],
            correlation_id=row["correlation_id"],
            causation_id=row["triggered_by"] if row["correlation_id"] else None,
            traceparent=current_traceparent(),
        )
