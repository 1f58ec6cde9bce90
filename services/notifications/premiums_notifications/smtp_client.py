"""A lean SMTP client session (RFC 5321) with command pipelining (RFC 2920) when the server offers it.

The email channel sends hundreds of messages a second over a few long-lived sessions, and aiosmtplib spent
most of the channel's CPU on per-command work: a round trip and a response parse for each of MAIL, RCPT and
DATA, address parsing, and a regular-expression pass over every message to fix line endings the message
already has. This session writes MAIL, RCPT and DATA in one packet when the server advertises PIPELINING
(one round trip instead of three), then the dot-stuffed message, and reads the replies in order.

`send_each` goes one step further for a run of messages on one session: a message's content is written in
the same packet as the next message's MAIL, RCPT and DATA (RFC 2920 §3.1 lets message content open a group),
so a message costs one write and one round trip instead of two of each. A refusal answers its own message and
the session goes on (RSET first when the transaction is still open), so a run of bad addresses does not cost a
connection each.

A server that also offers CHUNKING (RFC 3030) takes whole transactions pipelined: MAIL, RCPT, `BDAT <size> LAST`
and the message itself, with no 354 to wait for and no dot-stuffing, for up to `GROUP_MESSAGES` messages in one
write, then their replies in order. On loopback a write costs far more than the bytes it carries (the profile of
a month put a fifth of the notifications process in `StreamWriter.write`), so a group of sixteen messages costs
about one write instead of sixteen. A refused message no longer ends the session: the server reads a refused
chunk all the same, so every message of the group has its own answer.

It speaks plain SMTP only, as the channel always has: no STARTTLS, no AUTH (the relay is local or
reached over a private network).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

LOCAL_NAME = "premiums.example"
MAX_REPLY_LINES = 100
GROUP_MESSAGES = 16  # CHUNKING: whole transactions in one write, up to this many messages
GROUP_BYTES = 256 * 1024  # … or about this many bytes
DATA_STEPS = (("MAIL FROM", 250), ("RCPT TO", 250), ("DATA", 354))
CHUNK_STEPS = (("MAIL FROM", 250), ("RCPT TO", 250), ("message", 250))


class SmtpError(Exception):
    """The server answered with an error, or the session broke."""


class SmtpReply(SmtpError):
    """A reply other than the one the command expects: its code, its text, and which command drew it."""

    def __init__(self, code: int, text: str, command: str) -> None:
        super().__init__(f"{command}: {code} {text}")
        self.code, self.text, self.command = code, text, command


class SmtpDisconnected(SmtpError):
    pass


class SmtpSession:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self._reader, self._writer, self._timeout = reader, writer, timeout
        self.pipelining = False
        self.chunking = False
        self.connected = True

    @classmethod
    async def open(cls, host: str, port: int, *, timeout: float = 10.0) -> SmtpSession:
        """Connect, read the greeting and say EHLO (HELO for a server that does not know EHLO)."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        session = cls(reader, writer, timeout)
        try:
            await session._expect("connect", 220)
            writer.write(f"EHLO {LOCAL_NAME}\r\n".encode())
            code, text = await session._reply()
            if code == 250:
                keywords = {line.split(" ")[0].upper() for line in text.splitlines()[1:]}
                session.pipelining = "PIPELINING" in keywords
                session.chunking = session.pipelining and "CHUNKING" in keywords
            else:
                writer.write(f"HELO {LOCAL_NAME}\r\n".encode())
                await session._expect("HELO", 250)
        except BaseException:
            session.close()
            raise
        return session

    async def send(self, sender: str, recipient: str, message: bytes) -> str:
        """Send one message to one recipient; returns the server's acceptance text.

        Raises `SmtpReply` for a refusal (code and command tell a refused recipient from the rest) and
        `SmtpDisconnected` when the session broke. After a refusal the session is left ready for the next
        message (`_after_refusal`: RSET if the transaction is still open), or closed if it cannot be; after
        any other error it is closed.
        """
        try:
            async with self._deadline():  # one timer for the whole exchange, not one per reply
                return await self._send(sender, recipient, message)
        except SmtpReply:
            raise  # `_send` left the session ready for the next message, or closed it
        except BaseException:
            self.close()
            raise

    async def send_each(
        self,
        sender: str,
        feed: Callable[[], tuple[str, bytes] | None],
        answer: Callable[[str | SmtpReply], None],
    ) -> None:
        """Send `feed()`'s (recipient, message) pairs one after another until it returns None.

        `answer` is called once per message fed, in order, with the server's acceptance text or the
        `SmtpReply` that refused it. A refusal answers its message and the run goes on, on the same session
        (an envelope refused before its content: RSET first). Only a server that says it is closing (421), or
        a refusal the session cannot recover from, closes the session and ends the call: a message fed but not
        answered (at most one, whose envelope went out with the refused content) was not sent.
        A broken session raises `SmtpDisconnected`; the messages fed and not answered are then unknown.
        With pipelining, a message is answered only once the next one is fed (its content travels with the
        next envelope, or the next ones share its write), so `feed` is called before the previous message's answer.
        """
        if self.chunking:
            return await self._send_chunked(sender, feed, answer)
        if not self.pipelining:
            while (item := feed()) is not None:
                try:
                    answer(await self.send(sender, *item))
                except SmtpReply as exc:
                    answer(exc)
                    if not self.connected:
                        return
            return
        held: bytes | None = None  # the previous message's content, written with the next envelope
        loop = asyncio.get_running_loop()
        try:
            # One timer for the run, moved on at each exchange: a context manager per exchange was 5% of the
            # notifications process's main thread in a month's profile.
            async with self._deadline() as deadline:
                while True:
                    item = feed()
                    if item is None and held is None:
                        return
                    deadline.reschedule(loop.time() + self._timeout)
                    envelope = self._envelope(sender, item[0]) if item is not None else ()
                    self._writer.write(b"".join((held or b"", *(f"{c}\r\n".encode() for c in envelope))))
                    if held is not None:
                        held = None
                        accepted = _content_answer(*await self._read_reply())
                        answer(accepted)
                        if isinstance(accepted, SmtpReply):
                            await self._after_refusal(accepted)
                            if not self.connected:
                                return
                    if item is None:
                        return
                    replies = [await self._read_reply() for _ in envelope]
                    refused = self._refusal(DATA_STEPS, replies)
                    if refused is not None:
                        answer(refused)
                        await self._after_refusal(refused, replies)
                        if not self.connected:
                            return
                        continue
                    held = _dot_stuffed(item[1])
        except BaseException:
            self.close()
            raise

    async def _send_chunked(
        self,
        sender: str,
        feed: Callable[[], tuple[str, bytes] | None],
        answer: Callable[[str | SmtpReply], None],
    ) -> None:
        """RFC 3030 with RFC 2920: up to `GROUP_MESSAGES` whole transactions per write, answered in order."""
        mail = f"MAIL FROM:<{sender}>\r\n".encode()
        loop = asyncio.get_running_loop()
        try:
            async with self._deadline() as deadline:
                while True:
                    group: list[bytes] = []
                    messages = size = 0
                    while messages < GROUP_MESSAGES and size < GROUP_BYTES and (item := feed()) is not None:
                        recipient, message = item
                        envelope = f"RCPT TO:<{recipient}>\r\nBDAT {len(message)} LAST\r\n".encode()
                        group += (mail, envelope, message)
                        messages, size = messages + 1, size + len(message)
                    if not messages:
                        return
                    deadline.reschedule(loop.time() + self._timeout)
                    self._writer.write(b"".join(group))
                    for _ in range(messages):
                        replies = [await self._read_reply() for _ in CHUNK_STEPS]
                        refused = self._refusal(CHUNK_STEPS, replies)
                        answer(replies[-1][1] if refused is None else refused)
                        deadline.reschedule(loop.time() + self._timeout)
        except BaseException:
            self.close()
            raise

    async def _after_refusal(self, refused: SmtpReply, envelope: list[tuple[int, str]] | None = None) -> None:
        """Leave the session ready for the next message after a refusal (RFC 5321), or close it.

        A refused message (its content) ended its transaction: nothing to do. A refused MAIL, RCPT or DATA
        leaves the transaction open: RSET clears it (§4.1.1.5). A server that is closing the channel (421), a
        DATA the server took although the envelope was refused (it now waits for content), or a RSET not
        answered 250 closes the session instead; the caller's next message goes on a new one. `envelope` holds
        the replies to MAIL, RCPT and DATA read so far when the envelope was refused."""
        data_open = envelope is not None and len(envelope) == len(DATA_STEPS) and envelope[-1][0] == 354
        if refused.code == 421 or data_open:
            self.close()
        elif refused.command != "message":
            self._writer.write(b"RSET\r\n")
            code, _ = await self._read_reply()
            if code != 250:
                self.close()

    @staticmethod
    def _envelope(sender: str, recipient: str) -> tuple[str, ...]:
        return (f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA")

    @staticmethod
    def _refusal(steps: tuple[tuple[str, int], ...], replies: list[tuple[int, str]]) -> SmtpReply | None:
        """The first reply to MAIL, RCPT and DATA (or the chunk) that is not the one it should be (250 or 251
        to MAIL and RCPT, 354 to DATA, 250 to a chunk)."""
        for (command, want), (code, text) in zip(steps, replies, strict=False):
            if code != want and not (want == 250 and code == 251):
                return SmtpReply(code, text, command)
        return None

    async def _send(self, sender: str, recipient: str, message: bytes) -> str:
        commands = self._envelope(sender, recipient)
        if self.pipelining:
            self._writer.write("".join(f"{c}\r\n" for c in commands).encode())
            replies = [await self._read_reply() for _ in commands]
        else:
            replies = []
            for command in commands:
                self._writer.write(f"{command}\r\n".encode())
                replies.append(await self._read_reply())
                if self._refusal(DATA_STEPS, replies) is not None:
                    break
        if (refused := self._refusal(DATA_STEPS, replies)) is not None:
            await self._after_refusal(refused, replies)
            raise refused
        self._writer.write(_dot_stuffed(message))
        accepted = _content_answer(*await self._read_reply())
        if isinstance(accepted, SmtpReply):
            await self._after_refusal(accepted)
            raise accepted
        return accepted

    async def quit(self) -> None:
        if self.connected:
            self._writer.write(b"QUIT\r\n")
            try:
                await self._reply()
            finally:
                self.close()

    def close(self) -> None:
        if self.connected:
            self.connected = False
            self._writer.close()

    async def _expect(self, command: str, code: int) -> str:
        got, text = await self._reply()
        if got != code:
            raise SmtpReply(got, text, command)
        return text

    async def _reply(self) -> tuple[int, str]:
        """One reply within the session's timeout."""
        async with self._deadline():
            return await self._read_reply()

    @contextlib.asynccontextmanager
    async def _deadline(self) -> AsyncIterator[asyncio.Timeout]:
        """The session's timeout over a block (no task per read, unlike wait_for), which the block may move on
        (`reschedule`); a broken socket or a server gone quiet is `SmtpDisconnected`."""
        try:
            async with asyncio.timeout(self._timeout) as deadline:
                yield deadline
        except (OSError, TimeoutError) as exc:
            raise SmtpDisconnected(f"the session broke: {exc!r}") from exc

    async def _read_reply(self) -> tuple[int, str]:
        """One reply, multi-line or not: its code and its text lines joined by newlines."""
        lines: list[str] = []
        for _ in range(MAX_REPLY_LINES):
            raw = await self._reader.readline()
            if not raw.endswith(b"\n"):
                raise SmtpDisconnected("the server closed the connection")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if len(line) < 3 or not line[:3].isdigit():
                raise SmtpDisconnected(f"not an SMTP reply: {line[:80]!r}")
            lines.append(line[4:])
            if line[3:4] != "-":
                return int(line[:3]), "\n".join(lines)
        raise SmtpDisconnected("a reply of too many lines")


def _content_answer(code: int, text: str) -> str | SmtpReply:
    """The server's answer to a message's content: its acceptance text, or the refusal."""
    return text if code == 250 else SmtpReply(code, text, "message")


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload: a leading dot doubled on every line (RFC 5321 §4.5.2), then the end marker."""
    body = message.replace(b"\r\n.", b"\r\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"
