"""The email channel: SMTP (`smtp_client`, pipelined), over a pool of sessions kept open between batches.

A batch of notices is spread over up to `connections` SMTP sessions at once; each session sends one message
after another and goes back to the pool for the next batch. A session the server closed meanwhile is
reopened once; if the server cannot be reached the notice is `Unavailable` and the sender backs off.

The message is written as bytes directly (a multipart/alternative of quoted-printable UTF-8 text and HTML):
the standard library's `EmailMessage` and its generator cost about a millisecond of CPU per notice, which
at hundreds of notices a second is most of a core. Only the subject goes through the email package's header
folding, so a non-ASCII subject is encoded exactly as before.
"""

from __future__ import annotations

import asyncio
import binascii
from collections.abc import Sequence
from email import policy
from email.utils import formatdate

from premiums_notifications.channels import Outbound, Result, Unavailable, Undeliverable
from premiums_notifications.renderer import Rendered
from premiums_notifications.smtp_client import SmtpDisconnected, SmtpError, SmtpReply, SmtpSession

SENDER_ADDRESS = "no-reply@premiums.example"
SENDER = f"Health Connector <{SENDER_ADDRESS}>"
DEFAULT_CONNECTIONS = 8
_SUBJECT_POLICY = policy.SMTPUTF8.clone(linesep="\r\n")


def _quoted_printable(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _subject(subject: str) -> bytes:
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
    part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    return b"".join(
        (
            head,
            _subject(rendered.subject),
            b"\r\n",
            f"--{boundary}\r\n{part.format('plain')}".encode(),
            _quoted_printable(rendered.text),
            f"\r\n--{boundary}\r\n{part.format('html')}".encode(),
            _quoted_printable(rendered.html),
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
        results: list[Result | None] = [None] * len(outbounds)
        pending = list(reversed(list(enumerate(outbounds))))

        async def session() -> None:
            smtp = self._idle.pop() if self._idle else None
            try:
                while pending:
                    index, outbound = pending.pop()
                    smtp, results[index] = await self._send(smtp, outbound)
            finally:
                if smtp is not None and smtp.connected:
                    self._idle.append(smtp)

        await asyncio.gather(*(session() for _ in range(min(self.connections, len(outbounds)))))
        return [r if r is not None else Unavailable("not attempted") for r in results]

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

    async def _send(self, smtp: SmtpSession | None, outbound: Outbound) -> tuple[SmtpSession | None, Result]:
        """Send one notice on `smtp` (opening or reopening it as needed); returns the session to keep using."""
        address = outbound.member.get("email")
        if not address:
            return smtp, Undeliverable("no email address on file")
        try:
            message = build_message(outbound.notification_id, address, outbound.rendered)
        except Undeliverable as exc:
            return smtp, exc
        for attempt in (1, 2):
            try:
                if smtp is None or not smtp.connected:
                    smtp = await self._connect()
                return smtp, await smtp.send(SENDER_ADDRESS, address, message)
            except Unavailable as exc:
                return None, exc
            except SmtpReply as exc:
                if exc.command == "RCPT TO":
                    reason = f"SMTP server refused the address: {exc}"
                    return None, Undeliverable(reason) if exc.code >= 500 else Unavailable(reason)
                return None, Unavailable(f"SMTP error: {exc}")
            except SmtpDisconnected as exc:
                smtp = None  # a session the server closed meanwhile is reopened once
                if attempt == 2:
                    return None, Unavailable(f"SMTP error: {exc}")
        raise AssertionError("unreachable")
