"""The channels a notice goes out on, behind one interface: e-mail (SMTP), SMS (a provider adapter) and print.

A channel delivers a batch of rendered notices and answers, for each, the provider's answer or why it did not
go out: `Unavailable` means "try again later" (the sender backs off); `Undeliverable` means it can never go out
this way (the notice fails). How a channel spends the batch is its own business: SMTP spreads it over a pool
of open connections, the local sinks write one file after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from premiums_notifications.renderer import Rendered


class Unavailable(Exception):
    """The provider cannot be reached now (SMTP down): retry with backoff."""


class Undeliverable(Exception):
    """This notice can never go out on this channel (no address on file)."""


@dataclass(frozen=True)
class Outbound:
    notification_id: str
    member_id: str
    kind: str
    member: dict[str, Any]
    rendered: Rendered


Result = str | Unavailable | Undeliverable
"""The provider's answer for a notice that went out, or the reason it did not."""

Send = Callable[[Outbound], Awaitable[str]]


class Channel(Protocol):
    name: str

    async def deliver(self, outbounds: Sequence[Outbound]) -> list[Result]:
        """One result per notice, in order; never raises for a notice that did not go out."""
        ...


async def one_by_one(send: Send, outbounds: Sequence[Outbound]) -> list[Result]:
    """Deliver in turn through `send`, turning its refusals into results."""
    results: list[Result] = []
    for outbound in outbounds:
        try:
            results.append(await send(outbound))
        except (Unavailable, Undeliverable) as exc:
            results.append(exc)
    return results


class SmsProvider(Protocol):
    """An SMS gateway adapter (a real provider in production); returns the provider's message id."""

    async def send(self, member_id: str, to: str, text: str) -> str: ...


class LocalSmsSink:
    """Local SMS provider: appends each message to `<folder>/<member_id>.log`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, member_id: str, to: str, text: str) -> str:
        line = f"{datetime.now(UTC).isoformat()}\t{to}\t{text}\n"
        await asyncio.to_thread(self._append, self.folder / f"{member_id}.log", line)
        return f"local-sms: appended to {member_id}.log"

    def _append(self, path: Path, line: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(line)


class SmsChannel:
    name = "sms"

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    async def deliver(self, outbounds: Sequence[Outbound]) -> list[Result]:
        return await one_by_one(self._send, outbounds)

    async def _send(self, outbound: Outbound) -> str:
        phone = outbound.member.get("phone")
        if not phone:
            raise Undeliverable("no phone number on file")
        return await self.provider.send(outbound.member_id, phone, outbound.rendered.sms)


class PrintQueue:
    """Paper notices: each rendered document is written to `<folder>/<notification_id>.html` for the print
    vendor to pick up (HTML, not PDF: no maintained pure-Python HTML-to-PDF renderer is used here)."""

    name = "print"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def deliver(self, outbounds: Sequence[Outbound]) -> list[Result]:
        return await one_by_one(self._send, outbounds)

    async def _send(self, outbound: Outbound) -> str:
        path = self.folder / f"{outbound.notification_id}.html"
        await asyncio.to_thread(self._write, path, outbound.rendered.html)
        return f"print-queue: {path.name}"

    def _write(self, path: Path, html: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(html, encoding="utf-8")
        partial.replace(path)
