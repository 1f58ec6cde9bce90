"""The email channel: SMTP through aiosmtplib, one connection per batch of notices."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from premiums_notifications.channels import Outbound, Send, Unavailable, Undeliverable
from premiums_notifications.renderer import Rendered

SENDER = "Health Connector <no-reply@premiums.example>"


def build_message(notification_id: str, to: str, rendered: Rendered) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    # A stable Message-ID: a notice re-sent after a crash can be recognised as the same message.
    message["Message-ID"] = f"<{notification_id}@premiums.example>"
    message["X-Premiums-Notification"] = notification_id
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


class SmtpChannel:
    name = "email"

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def connect(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(hostname=self.host, port=self.port, timeout=10, start_tls=False)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Send]:
        smtp = self.connect()
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Unavailable(f"SMTP server unreachable: {exc}") from exc

        async def send(outbound: Outbound) -> str:
            address = outbound.member.get("email")
            if not address:
                raise Undeliverable("no email address on file")
            try:
                _, answer = await smtp.send_message(build_message(outbound.notification_id, address, outbound.rendered))
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise Unavailable(f"SMTP error: {exc}") from exc
            return str(answer)

        try:
            yield send
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()
