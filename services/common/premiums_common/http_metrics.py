"""The outermost HTTP layer of every service: one server span and one latency observation per request.

A pure ASGI middleware: Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) runs the app in a
separate task with memory streams between the two, which costs a noticeable share of a small request.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from premiums_common.metrics import HTTP_REQUESTS
from premiums_common.tracing import context_from, tracer


class MeasureRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        traceparent = _header(scope, b"traceparent")
        status = 500
        with tracer.start_as_current_span(
            f"{method} {path}",
            context=context_from(traceparent),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        ) as span:

            async def send_and_note(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_and_note)
            finally:
                span.set_attribute("http.response.status_code", status)
                route = getattr(scope.get("route"), "path", "unmatched")
                HTTP_REQUESTS.labels(method, route, status).observe(time.perf_counter() - started)


def _header(scope: Scope, name: bytes) -> Any:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
