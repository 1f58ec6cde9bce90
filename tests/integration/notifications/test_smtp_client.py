"""The email channel's own SMTP session against real servers: the Go sink (which offers PIPELINING and CHUNKING,
so whole transactions go in one packet, or with CHUNKING set aside MAIL, RCPT and DATA in one) and aiosmtpd (which
offers neither, so they go one by one)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from premiums_notifications.channels import Outbound, Unavailable
from premiums_notifications.email import SmtpChannel
from premiums_notifications.renderer import Rendered
from premiums_notifications.smtp_client import GROUP_MESSAGES, SmtpDisconnected, SmtpReply, SmtpSession

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
    assert session.pipelining and session.chunking, "the Go sink advertises PIPELINING and CHUNKING"
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


async def test_a_refused_recipient_is_a_reply_naming_rcpt_and_the_session_takes_the_next_message(
    aiosmtpd_server: Any,
) -> None:
    """RFC 5321 §4.1.1.5: RSET clears the refused transaction, and the same session sends the next message."""
    controller, keeper = aiosmtpd_server
    session = await SmtpSession.open("127.0.0.1", controller.port)
    with pytest.raises(SmtpReply) as refused:
        await session.send("a@premiums.example", "nobody@example.org", MESSAGE)
    assert (refused.value.command, refused.value.code) == ("RCPT TO", 550)
    assert session.connected and keeper.received == []
    assert await session.send("a@premiums.example", "m@example.org", MESSAGE) == "queued as 42"
    assert [r[1] for r in keeper.received] == [["m@example.org"]], "the refused recipient is not carried over"


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


@pytest.mark.parametrize("way", ["send", "send_each"])
async def test_a_server_gone_quiet_after_data_is_a_disconnection_within_the_session_timeout(way: str) -> None:
    """One deadline covers a message's whole exchange: a server that accepts DATA and then says nothing more
    is a disconnection after the session's timeout, not a hang (one message, or a pipelined run)."""
    quiet = asyncio.Event()

    async def quiet_after_data(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 slow ESMTP\r\n")
        await reader.readline()
        writer.write(b"250-slow\r\n250 PIPELINING\r\n" if way == "send_each" else b"250 slow\r\n")
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
            if way == "send":
                await session.send("a@premiums.example", "m@example.org", MESSAGE)
            else:
                feed = Feed([("m@example.org", MESSAGE), ("n@example.org", MESSAGE)])
                await session.send_each("a@premiums.example", feed.next, feed.answer)
        assert 0.4 < asyncio.get_running_loop().time() - started < 5
        assert way == "send" or feed.answers == [], "nothing was accepted, so nothing is answered"
        assert not session.connected
    finally:
        quiet.set()
        server.close()
        await server.wait_closed()


async def test_a_refused_connection_is_an_os_error_the_channel_reports_as_unreachable() -> None:
    with pytest.raises(OSError):
        await SmtpSession.open("127.0.0.1", free_port())


class Feed:
    """`send_each`'s two callbacks over a list of (recipient, message): what was fed, what was answered."""

    def __init__(self, items: list[tuple[str, bytes]]) -> None:
        self.items, self.fed, self.answers = list(items), 0, []  # type: ignore[var-annotated]

    def next(self) -> tuple[str, bytes] | None:
        if self.fed == len(self.items):
            return None
        self.fed += 1
        return self.items[self.fed - 1]

    def answer(self, reply: str | SmtpReply) -> None:
        self.answers.append(reply)


@pytest.mark.parametrize("chunking", [False, True], ids=["data", "bdat"])
async def test_a_run_of_messages_shares_packets_and_each_is_answered_in_order(
    sink: Sink,  # noqa: F811
    chunking: bool,
) -> None:
    """RFC 2920 §3.1: a message's content opens the next envelope's group (DATA, dot-stuffed); with RFC 3030
    CHUNKING whole transactions share a packet (BDAT, sent as is). Either way every message gets its own answer
    and arrives whole, leading dots and all."""
    session = await SmtpSession.open("127.0.0.1", sink.port)
    session.chunking = chunking
    feed = Feed([(f"m{n}@example.org", MESSAGE) for n in range(5)])
    await session.send_each("a@premiums.example", feed.next, feed.answer)
    assert feed.fed == 5 and len(feed.answers) == 5 and all(isinstance(a, str) and a for a in feed.answers)
    assert session.connected, "the session stays open for the next batch"
    await session.quit()
    stored = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sink.stored()]
    assert sorted(m["X-Envelope-To"] for m in stored) == [f"<m{n}@example.org>" for n in range(5)]
    assert all(p.read_bytes().endswith(b"\r\n\r\n.leading dot\r\n.\r\nlast line\r\n") for p in sink.stored())


async def _scripted(
    refuse_rcpt: str,
    refuse_content: bytes,
    *,
    delay: float = 0.0,
    hang_up_once_on: bytes | None = None,
    content_refusal: bytes = b"554 5.7.1 content refused",
) -> tuple[asyncio.Server, list[bytes]]:
    """A pipelining server that refuses one recipient and any message whose content holds `refuse_content`
    (with `content_refusal`; a 421 also hangs up, as RFC 5321 §3.8 has it); it answers only once it has read
    what was sent, as a real server does, and a recipient refused stays refused until RSET or MAIL. `delay`
    slows its 354 and content replies; the first content holding `hang_up_once_on` makes it hang up without a
    word (nothing stored)."""
    stored: list[bytes] = []
    hung_up: list[bool] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 scripted ESMTP\r\n")
        await reader.readline()
        writer.write(b"250-scripted\r\n250 PIPELINING\r\n")
        recipients = 0
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"MAIL":
                recipients = 0
                writer.write(b"250 sender ok\r\n")
            elif verb == b"RSET":
                recipients = 0
                writer.write(b"250 reset\r\n")
            elif verb == b"RCPT":
                refused = refuse_rcpt.encode() in line
                recipients += 0 if refused else 1
                writer.write(b"550 5.1.1 no such mailbox\r\n" if refused else b"250 recipient ok\r\n")
            elif verb == b"DATA" and not recipients:
                writer.write(b"554 no valid recipients\r\n")
            elif verb == b"DATA":
                await asyncio.sleep(delay)
                writer.write(b"354 go on\r\n")
                content = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    content += chunk
                if not chunk:  # the client went away in the middle of the message: nothing is stored
                    break
                if hang_up_once_on is not None and hang_up_once_on in content and not hung_up:
                    hung_up.append(True)
                    break
                await asyncio.sleep(delay)
                refused = refuse_content in content
                writer.write(content_refusal + b"\r\n" if refused else b"250 queued\r\n")
                if not refused:
                    stored.append(content)
                elif content_refusal.startswith(b"421"):
                    break
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0), stored


@pytest.mark.parametrize("refused", ["recipient", "content"])
async def test_a_refusal_in_a_pipelined_run_answers_that_message_and_the_run_goes_on(refused: str) -> None:
    """A refused recipient (RCPT) or a refused message (its content) is that message's answer; the same
    session goes on with the next messages (RSET first after a refused envelope), each answered and stored."""
    server, stored = await _scripted("nobody@example.org", b"reject me")
    port = server.sockets[0].getsockname()[1]
    bad = ("nobody@example.org", MESSAGE) if refused == "recipient" else ("m1@example.org", MESSAGE + b"reject me\r\n")
    try:
        session = await SmtpSession.open("127.0.0.1", port)
        feed = Feed([("m0@example.org", MESSAGE), bad, ("m2@example.org", MESSAGE), ("m3@example.org", MESSAGE)])
        await session.send_each("a@premiums.example", feed.next, feed.answer)
        assert feed.fed == 4 and len(feed.answers) == 4
        assert [feed.answers[n] for n in (0, 2, 3)] == ["queued"] * 3
        refusal = feed.answers[1]
        assert isinstance(refusal, SmtpReply)
        assert (refusal.command, refusal.code) == (("RCPT TO", 550) if refused == "recipient" else ("message", 554))
        assert session.connected and len(stored) == 3 and all(b"reject me" not in c for c in stored)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_server_closing_the_channel_421_ends_the_run_and_leaves_the_next_message_unsent() -> None:
    """RFC 5321 §3.8: a 421 means the server is going away. The refused message is answered, the session
    closes, and the message whose envelope went out with it is left unanswered, for another session."""
    server, stored = await _scripted("nobody@example.org", b"reject me", content_refusal=b"421 4.3.2 shutting down")
    port = server.sockets[0].getsockname()[1]
    try:
        session = await SmtpSession.open("127.0.0.1", port)
        items = [
            ("m0@example.org", MESSAGE + b"reject me\r\n"),
            ("m1@example.org", MESSAGE),
            ("m2@example.org", MESSAGE),
        ]
        feed = Feed(items)
        await session.send_each("a@premiums.example", feed.next, feed.answer)
        assert len(feed.answers) == 1 and isinstance(feed.answers[0], SmtpReply) and feed.answers[0].code == 421
        assert feed.fed == 2 and not session.connected and stored == []
    finally:
        server.close()
        await server.wait_closed()


async def test_a_run_without_pipelining_is_sent_one_exchange_at_a_time(aiosmtpd_server: Any) -> None:
    controller, keeper = aiosmtpd_server
    session = await SmtpSession.open("127.0.0.1", controller.port)
    feed = Feed([("m0@example.org", MESSAGE), ("nobody@example.org", MESSAGE), ("m1@example.org", MESSAGE)])
    await session.send_each("a@premiums.example", feed.next, feed.answer)
    assert [feed.answers[n] for n in (0, 2)] == ["queued as 42", "queued as 42"]
    assert isinstance(feed.answers[1], SmtpReply) and feed.answers[1].command == "RCPT TO"
    assert [r[1] for r in keeper.received] == [["m0@example.org"], ["m1@example.org"]] and session.connected


async def test_the_deadline_of_a_pipelined_run_is_per_exchange_not_for_the_whole_run() -> None:
    """A server slower than nothing but faster than the session timeout on each exchange: a run of several
    exchanges lasts longer than the timeout and still goes through."""
    server, stored = await _scripted("nobody@example.org", b"reject me", delay=0.15)
    port = server.sockets[0].getsockname()[1]
    try:
        session = await SmtpSession.open("127.0.0.1", port, timeout=0.5)
        feed = Feed([(f"m{n}@example.org", MESSAGE) for n in range(4)])
        started = asyncio.get_running_loop().time()
        await session.send_each("a@premiums.example", feed.next, feed.answer)
        assert asyncio.get_running_loop().time() - started > 0.5
        assert feed.answers == ["queued"] * 4 and len(stored) == 4 and session.connected
    finally:
        server.close()
        await server.wait_closed()


def _outbound(n: int, text: str) -> Outbound:
    rendered = Rendered(subject="Your bill", text=text, html=f"<p>{text}</p>", sms=text)
    return Outbound(f"ntf_{n}", f"mbr_{n}", "N1", {"email": f"m{n}@example.org"}, rendered)


@pytest.mark.parametrize("refusal", [b"554 5.7.1 content refused", b"421 4.3.2 shutting down"], ids=["554", "421"])
@pytest.mark.parametrize("connections", [1, 3])
async def test_the_channel_sends_each_notice_once_around_a_refusal_and_a_broken_session(
    connections: int, refusal: bytes
) -> None:
    """Through `SmtpChannel.deliver`: a refused message is that notice's answer (after a 421 the notice whose
    envelope went out with it is sent on the next session), and a session that hangs up mid-message is replaced
    and its notices in flight go out on the new one: every other notice is accepted, each stored once."""
    server, stored = await _scripted(
        "nobody@example.org", b"reject me", hang_up_once_on=b"hang up", content_refusal=refusal
    )
    port = server.sockets[0].getsockname()[1]
    texts = {2: "reject me", 5: "hang up"}
    outbounds = [_outbound(n, texts.get(n, "Your bill is ready.")) for n in range(8)]
    channel = SmtpChannel("127.0.0.1", port, connections=connections)
    try:
        results = await channel.deliver(outbounds)
        assert isinstance(results[2], Unavailable) and refusal[:3].decode() in str(results[2])
        assert [r for n, r in enumerate(results) if n != 2] == ["queued"] * 7
        sent = sorted(c.split(b"X-Premiums-Notification: ")[1].split(b"\r\n")[0].decode() for c in stored)
        assert sent == sorted(f"ntf_{n}" for n in range(8) if n != 2), "each accepted notice stored exactly once"
    finally:
        await channel.close()
        server.close()
        await server.wait_closed()


async def test_a_fault_of_ours_in_one_session_keeps_every_answer_already_given() -> None:
    """A notice that breaks the channel's own code (here a contact that is not a mapping) must not take the
    batch's answers with it: `deliver` still returns one result per notice, those accepted say so, the rest are
    `Unavailable` (tried again later), and the broken session is not reused."""
    server, stored = await _scripted("nobody@example.org", b"reject me")
    port = server.sockets[0].getsockname()[1]
    outbounds = [_outbound(n, "Your bill is ready.") for n in range(6)]
    outbounds[3] = Outbound("ntf_3", "mbr_3", "N1", None, outbounds[3].rendered)  # type: ignore[arg-type]
    channel = SmtpChannel("127.0.0.1", port, connections=1)
    try:
        results = await channel.deliver(outbounds)
        assert len(results) == 6
        accepted = [n for n, r in enumerate(results) if r == "queued"]
        assert accepted and all(isinstance(r, Unavailable) for n, r in enumerate(results) if n not in accepted)
        assert len(stored) == len(accepted), "every notice called accepted was stored, and no other"
        assert not channel._idle, "a session left in an unknown state goes back to no pool"
        assert await channel.deliver([_outbound(9, "Your bill is ready.")]) == ["queued"]
    finally:
        await channel.close()
        server.close()
        await server.wait_closed()


async def test_with_chunking_a_refused_recipient_answers_its_message_and_the_run_goes_on(sink: Sink) -> None:  # noqa: F811
    """RFC 3030: the server reads a refused transaction's chunk all the same, so a refusal in the middle of a
    group is that message's answer and the messages after it still go out, on the same session."""
    session = await SmtpSession.open("127.0.0.1", sink.port)
    items = [(f"m{n}@example.org", MESSAGE) for n in range(40)]
    items[17] = ("", MESSAGE)  # the Go sink refuses an empty recipient: 501, then 554 for the chunk
    feed = Feed(items)
    fed_when_answered: list[int] = []

    def answer(reply: str | SmtpReply) -> None:
        fed_when_answered.append(feed.fed)
        feed.answer(reply)

    await session.send_each("a@premiums.example", feed.next, answer)
    assert fed_when_answered[0] == GROUP_MESSAGES and fed_when_answered[GROUP_MESSAGES] == 2 * GROUP_MESSAGES, (
        "a group of messages goes out in one write before the first answer is read"
    )
    refused = feed.answers[17]
    assert isinstance(refused, SmtpReply) and (refused.command, refused.code) == ("RCPT TO", 501)
    assert [a for n, a in enumerate(feed.answers) if n != 17] == ["Message accepted for delivery"] * 39
    assert session.connected
    await session.quit()
    recipients = [email.message_from_bytes(p.read_bytes())["X-Envelope-To"] for p in sink.stored()]
    assert recipients == [f"<m{n}@example.org>" for n in range(40) if n != 17]
