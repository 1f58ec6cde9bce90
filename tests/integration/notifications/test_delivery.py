"""The sender on a real PostgreSQL and a real SMTP server: outage and recovery without duplicates (issue 6),
and the SMS and print channels behind the same interface."""

from __future__ import annotations

import asyncio
import email
import socket
from datetime import date
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from premiums_contracts.events import AccountDelinquent
from premiums_notifications import repository as repo
from premiums_notifications.channels import LocalSmsSink, PrintQueue, SmsChannel
from premiums_notifications.domain.preferences import Preferences
from premiums_notifications.email import SmtpChannel
from premiums_notifications.sender import Sender

from tests.integration.notifications.support import handle, known_member

pytestmark = pytest.mark.integration


class Inbox:
    """An SMTP server's message handler that keeps what it accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _warning(member_id: str, enrollment_id: str, month: str) -> AccountDelinquent:
    return AccountDelinquent(
        enrollment_id=enrollment_id,
        member_id=member_id,
        first_unpaid_month=month,
        amount_past_due=Decimal("312.40"),
        pay_by=date(2027, 3, 23),
        notice="past_due_warning",
    )


async def _drain(sender: Sender, pool: asyncpg.Pool) -> None:
    """Deliver until nothing is pending or due (backoff is a few ms in these tests)."""
    for _ in range(100):
        await sender.deliver_due()
        if not await pool.fetchval("SELECT count(*) FROM notifications WHERE status = 'pending'"):
            return
        await asyncio.sleep(0.05)


async def test_smtp_outage_notices_wait_with_backoff_and_go_out_once_each_when_the_server_is_back(
    ntf_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    port = free_port()
    inbox = Inbox()
    channels = {
        "email": SmtpChannel("127.0.0.1", port),
        "sms": SmsChannel(LocalSmsSink(tmp_path)),
        "print": PrintQueue(tmp_path),
    }
    sender = Sender(lambda: ntf_pool, "/premiums/notifications", channels, backoff=lambda attempts: 0.01 * attempts)
    e = await known_member(ntf_pool)
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    await handle(ntf_pool, _warning(e.member_id, e.enrollment_id, "2027-01"), e.enrollment_id)
    await _drain(sender, ntf_pool)
    assert len(inbox.messages) == 1

    server.stop()  # the SMTP server stops accepting connections
    for month in ("2027-02", "2027-03"):
        await handle(ntf_pool, _warning(e.member_id, e.enrollment_id, month), e.enrollment_id)
    for _ in range(3):
        await sender.deliver_due()
        await asyncio.sleep(0.05)
    waiting = await ntf_pool.fetch(
        "SELECT attempts, provider_response FROM notifications WHERE member_id = $1 AND status = 'pending'", e.member_id
    )
    assert len(waiting) == 2
    assert all(r["attempts"] >= 2 and "SMTP server unreachable" in r["provider_response"] for r in waiting)

    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()  # it comes back
    try:
        await _drain(sender, ntf_pool)
        await _drain(sender, ntf_pool)
    finally:
        server.stop()
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(ids) == 3 and len(set(ids)) == 3, "each notice exactly once"
    rows = await repo.of_member(ntf_pool, e.member_id)
    assert [r["status"] for r in rows] == ["sent"] * 3
    assert all(r["provider_response"] == "Message accepted for delivery" and r["sent_at"] for r in rows)
    outbox = await ntf_pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'notifications.events'")
    assert outbox >= 3


async def test_sms_and_print_channels_write_the_local_sink_and_the_print_queue(
    ntf_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    channels = {
        "email": SmtpChannel("127.0.0.1", free_port()),
        "sms": SmsChannel(LocalSmsSink(tmp_path / "sms")),
        "print": PrintQueue(tmp_path / "print"),
    }
    sender = Sender(lambda: ntf_pool, "/premiums/notifications", channels, backoff=lambda attempts: 0.01)
    await ntf_pool.execute("UPDATE notifications SET status = 'failed' WHERE status = 'pending'")
    e = await known_member(ntf_pool, "es")
    await repo.save_preferences(ntf_pool, e.member_id, Preferences(channels=("sms",), paperless=False), e.member_id)
    await handle(ntf_pool, _warning(e.member_id, e.enrollment_id, "2027-05"), e.enrollment_id)
    await _drain(sender, ntf_pool)

    sms = (tmp_path / "sms" / f"{e.member_id}.log").read_text().splitlines()
    assert len(sms) == 1 and "617-555-0134" in sms[0] and "Aviso de pago vencido" in sms[0] and "TTY 711" in sms[0]
    printed = list((tmp_path / "print").glob("*.html"))
    assert len(printed) == 1
    html = printed[0].read_text()
    assert '<html lang="es">' in html and "<table" in html and "$312.40" in html
    rows = await repo.of_member(ntf_pool, e.member_id)
    assert sorted((r["channel"], r["status"]) for r in rows) == [("print", "sent"), ("sms", "sent")]


async def test_a_lease_keeps_a_notice_from_other_senders_until_it_runs_out_then_it_is_taken_again(
    ntf_pool: asyncpg.Pool,
) -> None:
    """A sender that dies mid-batch holds its notices for the lease only: then another sender (or lane, or replica)
    takes them again, so nothing waits forever and the row stays the one copy (issue 6)."""
    e = await known_member(ntf_pool)
    await handle(ntf_pool, _warning(e.member_id, e.enrollment_id, "2027-04"), e.enrollment_id)
    leased: list[str] = []

    async def claim() -> list[Any]:
        rows = await repo.claim_due(con, 100, 60)
        leased.extend(r["notification_id"] for r in rows)
        return [r for r in rows if r["member_id"] == e.member_id]

    async with ntf_pool.acquire() as con:
        try:
            [first] = await claim()
            assert await claim() == [], "a second sender skips a notice under a live lease"
            await con.execute(
                "UPDATE notifications SET leased_until = now() - interval '1 second' WHERE member_id = $1", e.member_id
            )
            [again] = await claim()
            assert again["notification_id"] == first["notification_id"] and again["attempts"] == 2
        finally:  # other tests' notices this test leased go back to the queue
            await con.execute("UPDATE notifications SET leased_until = NULL WHERE notification_id = ANY($1)", leased)
