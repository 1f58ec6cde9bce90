"""The email channel's own SMTP session against real servers: the Go sink (which offers PIPELINING, so MAIL,
RCPT and DATA go in one packet) and aiosmtpd (which does not, so they go one by one)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from premiums_notifications.smtp_client import SmtpDisconnected, SmtpReply, SmtpSession

from tests.integration.test_smtp_sink import Sink, free_port, sink  # noqa: F401  (the Go sink fixture)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# A line that starts with a dot must arrive with one dot (RFC 5321 §4.5.2), and a lone dot must not end DATA.
MESSAGE = b"From: a@premiums.example\r\nTo: m@example.org\r\nSubject: dots\r\n\r\n.leading dot\r\n.\r\nlast line\r\n"


class Keeper:
    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 queued as 42"


@pytest.fixture
def aiosmtpd_server() -> Any:
    keeper = Keeper(refuse="nobody@example.org")
    controller = Controller(keeper, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, keeper
    finally:
        controller.stop()


async def test_pipelined_messages_arrive_whole_with_their_dots_on_the_go_sink(sink: Sink) -> None:  # noqa: F811
    session = await SmtpSession.open("127.0.0.1", sink.port)
    assert session.pipelining, "the Go sink advertises PIPELINING"
    for n in range(3):
        answer = await session.send("a@premiums.example", f"m{n}@example.org", MESSAGE)
        assert answer
    await session.quit()
    stored = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sink.stored()]
    assert [m["X-Envelope-To"] for m in stored] == ["<m0@example.org>", "<m1@example.org>", "<m2@example.org>"]
    assert all(p.read_bytes().endswith(b"\r\n\r\n.leading dot\r\n.\r\nlast line\r\n") for p in sink.stored())


async def test_one_command_at_a_time_when_the_server_does_not_pipeline(aiosmtpd_server: Any) -> None:
    controller, keeper = aiosmtpd_server
    session = await SmtpSession.open("127.0.0.1", controller.port)
    assert not session.pipelining
    answer = await session.send("a@premiums.example", "m@example.org", MESSAGE)
    assert answer == "queued as 42"
    assert keeper.received[0][:2] == ("a@premiums.example", ["m@example.org"])
    assert keeper.received[0][2].replace(b"\r\n", b"\n").endswith(b"\n.leading dot\n.\nlast line\n")


async def test_a_refused_recipient_is_a_reply_naming_rcpt_and_the_session_is_closed(aiosmtpd_server: Any) -> None:
    controller, keeper = aiosmtpd_server
    session = await SmtpSession.open("127.0.0.1", controller.port)
    with pytest.raises(SmtpReply) as refused:
        await session.send("a@premiums.example", "nobody@example.org", MESSAGE)
    assert (refused.value.command, refused.value.code) == ("RCPT TO", 550)
    assert not session.connected and keeper.received == []


async def test_a_server_that_hangs_up_mid_transaction_is_a_disconnection() -> None:
    async def hang_up_after_ehlo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 brief ESMTP\r\n")
        await reader.readline()
        writer.write(b"250 brief\r\n")
        await reader.readline()  # MAIL FROM: the server goes away without a word
        writer.close()

    server = await asyncio.start_server(hang_up_after_ehlo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        session = await SmtpSession.open("127.0.0.1", port)
        with pytest.raises(SmtpDisconnected):
            await session.send("a@premiums.example", "m@example.org", MESSAGE)
        assert not session.connected
    finally:
        server.close()
        await server.wait_closed()


async def test_a_server_gone_quiet_after_data_is_a_disconnection_within_the_session_timeout() -> None:
    """One deadline covers a message's whole exchange: a server that accepts DATA and then says nothing more
    is a disconnection after the session's timeout, not a hang."""
    quiet = asyncio.Event()

    async def quiet_after_data(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 slow ESMTP\r\n")
        await reader.readline()
        writer.write(b"250 slow\r\n")
        for reply in (b"250 sender ok\r\n", b"250 recipient ok\r\n", b"354 go on\r\n"):
            await reader.readline()
            writer.write(reply)
        await quiet.wait()
        writer.close()

    server = await asyncio.start_server(quiet_after_data, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        session = await SmtpSession.open("127.0.0.1", port, timeout=0.5)
        started = asyncio.get_running_loop().time()
        with pytest.raises(SmtpDisconnected):
            await session.send("a@premiums.example", "m@example.org", MESSAGE)
        assert 0.4 < asyncio.get_running_loop().time() - started < 5
        assert not session.connected
    finally:
        quiet.set()
        server.close()
        await server.wait_closed()


async def test_a_refused_connection_is_an_os_error_the_channel_reports_as_unreachable() -> None:
    with pytest.raises(OSError):
        await SmtpSession.open("127.0.0.1", free_port())
