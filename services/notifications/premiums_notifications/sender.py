"""Delivers queued notices: lease due rows, render, send on their channel, record the answers and publish
`NotificationSent` / `NotificationFailed` in the same transaction.

The work is per batch: one transaction leases up to `batch` rows, each channel gets its share at once (SMTP
spreads it over a pool of connections), and one transaction records every answer with bulk statements and
stores the events in the outbox. The sender sleeps until PostgreSQL says a notice was queued
(`NOTIFY notifications`, sent when the queueing transaction commits) or `idle_sleep` passes.

Delivery is at least once towards the provider: a crash after the SMTP server accepted a message but before
the row is marked sent re-sends it once the lease expires, with the same Message-ID. An unreachable provider
only postpones the row (exponential backoff); the row stays the one copy of the notice, so when the server
comes back each notice goes out once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from premiums_common.metrics import NOTICES_SENT
from premiums_common.outbox import Outgoing, add, resumed
from premiums_common.tracing import context_from, current_traceparent, tracer
from premiums_contracts.events import NotificationFailed, NotificationSent
from premiums_contracts.events.notifications import NoticeChannel

from premiums_notifications import repository as repo
from premiums_notifications.channels import Channel, Outbound, Result, Undeliverable
from premiums_notifications.domain.preferences import Language, Preferences, language_of
from premiums_notifications.renderer import RenderJob, RenderPool

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BATCH = 500  # each claim walks the index entries of notices just sent: fewer, larger claims walk them less
CHANNEL = "notifications"
LEASE_SECONDS = 60


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 ... seconds, at most 5 minutes between attempts."""
    return float(min(300, 2 ** min(attempts, 9)))


@dataclass
class _Answers:
    """What one batch came to, written back in one transaction."""

    sent: list[tuple[str, str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    postponed: list[tuple[str, float, str]] = field(default_factory=list)
    events: list[Outgoing] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    row: Any
    outbound: Outbound
    language: Language
    span: Span


class Sender:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        source: str,
        channels: Mapping[str, Channel],
        *,
        idle_sleep: float = 0.5,
        backoff: Callable[[int], float] = backoff_seconds,
        batch: int = BATCH,
        database_url: str | None = None,
        renderer: RenderPool | None = None,
    ) -> None:
        self.pool = pool
        self.source = source
        self.channels = channels
        self.idle_sleep = idle_sleep
        self.backoff = backoff
        self.batch = batch
        self.database_url = database_url
        self.renderer = renderer or RenderPool(0)
        self._wake = asyncio.Event()

    async def run(self, lanes: int = 2) -> None:
        """`lanes` delivery loops at once, so one batch renders while another is on the wire (rows are leased
        with SKIP LOCKED, so the loops, like replicas, never take the same notice)."""
        listener = await self._listen()
        try:
            async with asyncio.TaskGroup() as lanes_running:  # one lane failing stops the other: none is orphaned
                for _ in range(lanes):
                    lanes_running.create_task(self._lane())
        finally:
            self.renderer.close()
            if listener is not None:
                await listener.close()

    async def _lane(self) -> None:
        while True:
            self._wake.clear()
            sent = await self.deliver_due()
            if sent < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_sleep)

    async def _listen(self) -> asyncpg.Connection | None:
        """A dedicated connection that wakes the sender when a notice is queued (the poll is the fallback)."""
        if not self.database_url:
            return None
        listener = await asyncpg.connect(self.database_url)
        await listener.add_listener(CHANNEL, lambda *_: self._wake.set())
        return listener

    async def deliver_due(self) -> int:
        async with self.pool().acquire() as con, con.transaction():
            rows = await repo.claim_due(con, self.batch, LEASE_SECONDS)
        if not rows:
            return 0
        answers = _Answers()
        by_channel: dict[str, list[_Prepared]] = defaultdict(list)
        for prepared in await self._prepare(rows, answers):
            by_channel[prepared.row["channel"]].append(prepared)
        for channel_name, items in by_channel.items():
            results = await self.channels[channel_name].deliver([p.outbound for p in items])
            for item, result in zip(items, results, strict=True):
                self._record(item, cast(NoticeChannel, channel_name), result, answers)
        async with self.pool().acquire() as con, con.transaction():
            await repo.mark_sent_many(con, answers.sent)
            await repo.mark_failed_many(con, answers.failed)
            await repo.postpone_many(con, answers.postponed)
            await add(con, answers.events)
        log.info(
            "notices delivered",
            extra={"sent": len(answers.sent), "failed": len(answers.failed), "postponed": len(answers.postponed)},
        )
        return len(answers.sent)

    async def _prepare(self, rows: list[Any], answers: _Answers) -> list[_Prepared]:
        """Each row with a contact, rendered in its member's language (D14); the others wait for one."""
        ready: list[tuple[Any, dict[str, Any], Language]] = []
        jobs: list[RenderJob] = []
        for row in rows:
            member = json.loads(row["member"]) if row["member"] else None
            if member is None:
                reason = "no contact details for this member yet"
                self._retry_or_fail(row, cast(NoticeChannel, row["channel"]), reason, answers)
                continue
            language = language_of(Preferences(language=row["preferred_language"]), member.get("language"))
            facts = {**json.loads(row["facts"]), "first_name": member["first_name"], "last_name": member["last_name"]}
            ready.append((row, member, language))
            jobs.append((row["kind"], language, facts))
        prepared = []
        for (row, member, language), rendered in zip(ready, await self.renderer.render(jobs), strict=True):
            span = tracer.start_span(
                f"deliver {row['kind']} by {row['channel']}",
                context=context_from(row["traceparent"]),
                kind=SpanKind.PRODUCER,
                attributes={"premiums.notification_id": row["notification_id"], "premiums.kind": row["kind"]},
            )
            outbound = Outbound(row["notification_id"], row["member_id"], row["kind"], member, rendered)
            prepared.append(_Prepared(row, outbound, language, span))
        return prepared

    def _record(self, item: _Prepared, channel: NoticeChannel, result: Result, answers: _Answers) -> None:
        row = item.row
        with trace.use_span(item.span, end_on_exit=True):
            if isinstance(result, Undeliverable):
                self._fail(row, channel, str(result), answers)
            elif isinstance(result, Exception):
                self._retry_or_fail(row, channel, str(result), answers)
            else:
                answers.sent.append((row["notification_id"], item.language, item.outbound.rendered.subject, result))
                event = NotificationSent(
                    notification_id=row["notification_id"],
                    member_id=row["member_id"],
                    kind=row["kind"],
                    channel=channel,
                    language=item.language,
                    triggered_by=row["triggered_by"],
                )
                answers.events.append(self._outgoing(event, row))
                NOTICES_SENT.labels(row["kind"], channel).inc()
                log.debug(  # one line per batch at info (deliver_due): a line per notice was 6% of the CPU
                    "notice sent",
                    extra={"notification_id": row["notification_id"], "kind": row["kind"], "channel": channel},
                )

    def _retry_or_fail(self, row: Any, channel: NoticeChannel, reason: str, answers: _Answers) -> None:
        if row["attempts"] >= MAX_ATTEMPTS:
            self._fail(row, channel, reason, answers)
        else:
            answers.postponed.append((row["notification_id"], self.backoff(row["attempts"]), reason))

    def _fail(self, row: Any, channel: NoticeChannel, reason: str, answers: _Answers) -> None:
        event = NotificationFailed(
            notification_id=row["notification_id"],
            member_id=row["member_id"],
            kind=row["kind"],
            channel=channel,
            reason=reason,
            triggered_by=row["triggered_by"],
        )
        answers.failed.append((row["notification_id"], reason))
        answers.events.append(self._outgoing(event, row))
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
