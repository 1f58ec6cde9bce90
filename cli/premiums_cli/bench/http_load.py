"""A lean HTTP/1.1 load generator for the portal phase: keep-alive connections on asyncio streams.

The benchmark shares the 2-core machine with the system it measures, so its own CPU is taken from the
services. With httpx, a 600-member portal run cost the benchmark 13.4 s of CPU and measured 30 payments/s;
with this client (prepared requests, tokens minted before the clock starts, a `Content-Length` response read
straight off the stream) it cost 9.4 s, most of it start-up and the enrollments, and measured 75/s.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    milliseconds: float


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened when the server closes it."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, request: Request) -> Answer:
        body = json.dumps(request.body).encode()
        head = (
            f"POST {request.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
            + "\r\n"
        ).encode()
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        started = time.perf_counter()
        self._writer.write(head + body)
        status, length, close = await self._read_head(self._reader)
        payload = await self._reader.readexactly(length)
        elapsed = (time.perf_counter() - started) * 1000
        if close:
            await self.close()
        return Answer(status, json.loads(payload) if payload else None, elapsed)

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
        status_line = await reader.readline()
        if not status_line:
            raise HttpError("the server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value.lower() == "close"
            elif name == "transfer-encoding":
                raise HttpError(f"this client reads Content-Length bodies only, not {value}")
        return status, length, close

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()
        self._reader = self._writer = None


async def post_all(
    base_urls: Sequence[str], requests: Sequence[Request], concurrency: int, done: Callable[[int], None] | None = None
) -> list[Answer]:
    """POST every request, `concurrency` at a time on as many connections; answers in request order.

    The connections are spread over `base_urls` in turn, as a load balancer spreads them over replicas."""
    answers: list[Answer | None] = [None] * len(requests)
    position = iter(range(len(requests)))
    finished = 0

    async def worker(base_url: str) -> None:
        nonlocal finished
        connection = Connection(base_url)
        try:
            for index in position:
                answers[index] = await connection.post(requests[index])
                finished += 1
                if done is not None:
                    done(finished)
        finally:
            await connection.close()

    workers = min(concurrency, len(requests)) or 1
    await asyncio.gather(*(worker(base_urls[n % len(base_urls)]) for n in range(workers)))
    return [a for a in answers if a is not None]
