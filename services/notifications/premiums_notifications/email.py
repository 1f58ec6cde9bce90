"""The email channel: SMTP (`smtp_client`, pipelined), over a pool of sessions kept open between batches.

A batch of notices is spread over up to `connections` SMTP sessions at once; each session takes the next
notice as it goes (`SmtpSession.send_each`: a message's content travels with the next message's envelope)
and goes back to the pool for the next batch. A session that breaks is replaced and the notices it had in
flight are sent once more on the new one; a session a refusal closed hands on the notice it had not sent.
If the server cannot be reached the notice is `Unavailable` and the sender backs off.

The message is written as bytes directly (a multipart/alternative of text and HTML, as they are when they are
ASCII, else quoted-printable UTF-8):
the standard library's `EmailMessage` and its generator cost about a millisecond of CPU per notice, which
at hundreds of notices a second is most of a core. Only the subject goes through the email package's header
folding, so a non-ASCII subject is encoded exactly as before.
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.utils import formatdate

from premiums_notifications.channels import Outbound, Result, Unavailable, Undeliverable
from premiums_notifications.renderer import Rendered
from premiums_notifications.smtp_client import SmtpDisconnected, SmtpError, SmtpReply, SmtpSession

SENDER_ADDRESS = "no-reply@premiums.example"
SENDER = f"Health Connector <{SENDER_ADDRESS}>"
DEFAULT_CONNECTIONS = 8
log = logging.getLogger(__name__)
_SUBJECT_POLICY = policy.SMTPUTF8.clone(linesep="\r\n")


MAX_LINE = 998  # RFC 5321 §4.5.3.1.6: octets in a line of a message, before its CRLF


def _part(subtype: str, text: str) -> bytes:
    """A body part: as it is (7bit, RFC 2045 §2.7) when the text is short-lined ASCII, as nearly every notice
    in English is, else quoted-printable UTF-8. Encoding a part was a tenth of the sender's CPU a notice. A bare
    CR (from a fact that came from outside) ends a line, as a member's mail program would show it."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii() and "\0" not in text and max(map(len, text.split("\n"))) <= MAX_LINE:
        encoding, body = "7bit", text.replace("\n", "\r\n").encode("ascii")
    else:
        encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
        encoding, body = "quoted-printable", encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n'
    return head.encode() + body


@functools.lru_cache(maxsize=1024)
def _subject(subject: str) -> bytes:
    """The folded Subject header; subjects repeat across members (a kind, a language, a month), and folding
    a non-ASCII one through the email package's header registry costs more than the rest of the message."""
    if subject.isascii() and len(subject) <= 68 and "\n" not in subject:
        return f"Subject: {subject}\r\n".encode()
    header = _SUBJECT_POLICY.header_factory("Subject", subject)
    folded: str = header.fold(policy=policy.SMTP)
    return folded.encode("ascii")


def build_message(notification_id: str, to: str, rendered: Rendered) -> bytes:
    """The message as sent: a stable Message-ID, so a notice re-sent after a crash is the same message."""
    if not to.isascii() or "\n" in to or "\r" in to:
        raise Undeliverable("the email address on file cannot be written in a message header")
    boundary = f"=_premiums_{notification_id}"
    head = (
        f"From: {SENDER}\r\n"
        f"To: {to}\r\n"
        f"Date: {formatdate(localtime=False)}\r\n"
        f"Message-ID: <{notification_id}@premiums.example>\r\n"
        f"X-Premiums-Notification: {notification_id}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
    ).encode()
    return b"".join(
        (
            head,
            _subject(rendered.subject),
            f"\r\n--{boundary}\r\n".encode(),
            _part("plain", rendered.text),
            f"\r\n--{boundary}\r\n".encode(),
            _part("html", rendered.html),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )


class SmtpChannel:
    name = "email"

    def __init__(self, host: str, port: int, *, connections: int = DEFAULT_CONNECTIONS) -> None:
        self.host, self.port = host, port
        self.connections = max(1, connections)
        self._idle: list[SmtpSession] = []

    async def deliver(self, outbounds: Sequence[Outbound]) -> list[Result]:
        run = _Run(outbounds)

        async def session() -> None:
            smtp = self._idle.pop() if self._idle else None
            try:
                while run.pending:
                    smtp = await self._session(smtp, run)
            except Exception:  # a fault of ours: the answers the other sessions have must not be lost with it
                log.exception("SMTP session failed unexpectedly; its notices in flight will be tried again")
                if smtp is not None:
                    smtp.close()
            finally:
                if smtp is not None and smtp.connected:
                    self._idle.append(smtp)

        await asyncio.gather(*(session() for _ in range(min(self.connections, len(outbounds)))))
        return [r if r is not None else Unavailable("not attempted") for r in run.results]

    async def close(self) -> None:
        while self._idle:
            smtp = self._idle.pop()
            try:
                await smtp.quit()
            except (SmtpError, OSError):
                smtp.close()

    async def _connect(self) -> SmtpSession:
        try:
            return await SmtpSession.open(self.host, self.port, timeout=10)
        except (SmtpError, OSError, TimeoutError) as exc:
            raise Unavailable(f"SMTP server unreachable: {exc}") from exc

    async def _session(self, smtp: SmtpSession | None, run: _Run) -> SmtpSession | None:
        """Send the run's pending notices on `smtp` (opened if need be) until none are left or the session
        ends; returns the session if it can still be used. A session that breaks is replaced, and the notices
        it had in flight are sent once more on the next one (at least once: the same Message-ID)."""
        if smtp is None or not smtp.connected:
            try:
                smtp = await self._connect()
            except Unavailable as exc:
                if run.pending:  # one notice per failed connection, as each would have tried its own
                    index, _ = run.pending.pop()
                    run.results[index] = exc
                return None
        in_flight: deque[tuple[int, Outbound]] = deque()

        def feed() -> tuple[str, bytes] | None:
            while run.pending:
                index, outbound = run.pending.pop()
                try:
                    address = outbound.member.get("email")
                    if not address:
                        raise Undeliverable("no email address on file")
                    message = build_message(outbound.notification_id, address, outbound.rendered)
                except Undeliverable as exc:
                    run.results[index] = exc
                    continue
                in_flight.append((index, outbound))
                return address, message
            return None

        def answer(reply: str | SmtpReply) -> None:
            index, _ = in_flight.popleft()
            run.results[index] = reply if isinstance(reply, str) else _refused(reply)

        try:
            await smtp.send_each(SENDER_ADDRESS, feed, answer)
        except SmtpDisconnected as exc:
            for index, outbound in in_flight:
                if index in run.retried:
                    run.results[index] = Unavailable(f"SMTP error: {exc}")
                else:
                    run.retried.add(index)
                    run.pending.append((index, outbound))
            return None
        run.pending.extend(in_flight)  # fed after a refusal had closed the session: not sent, next session
        return smtp if smtp.connected else None


@dataclass
class _Run:
    """One `deliver` call's notices: those not yet taken by a session (taken from the end), the answers, and
    the notices already given a second session after a broken one."""

    outbounds: Sequence[Outbound]
    pending: list[tuple[int, Outbound]] = field(init=False)
    results: list[Result | None] = field(init=False)
    retried: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.pending = list(reversed(list(enumerate(self.outbounds))))
        self.results = [None] * len(self.outbounds)


def _refused(reply: SmtpReply) -> Result:
    if reply.command == "RCPT TO":
        reason = f"SMTP server refused the address: {reply}"
        return Undeliverable(reason) if reply.code >= 500 else Unavailable(reason)
    return Unavailable(f"SMTP error: {reply}")
