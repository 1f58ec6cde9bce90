"""The HTTP front door every service shares: body size, content type and rate limits (issue 7).

A pure ASGI middleware, so a refused request is answered before any route, body parsing or database work:
- a body larger than `max_body_bytes` gets 413, a body that is not JSON gets 415, a NUL character in the
  path, query or body (PostgreSQL text cannot hold one) gets 400;
- each caller has a token bucket: a verified member token by its subject, anything else (guests, bad
  tokens) by client address; staff and internal services are not limited here. Over the limit: 429 with
  `Retry-After`. Limits are per process (a replica has its own buckets); a gateway in front adds its own.
Every refusal is an RFC 9457 problem in plain language, and nothing behind it has run.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from premiums_common.auth import PRINCIPAL, verify_token
from premiums_common.problems import PROBLEM_JSON, Problem, problem_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/docs/oauth2-redirect"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
UNLIMITED_ROLES = frozenset({"staff", "service"})
NUL_DETAIL = "Text in a request may not contain NUL (\\u0000) characters; nothing was changed."


class TokenBuckets:
    """`per_minute` requests a minute for each key, with bursts up to `burst`; the oldest keys are forgotten
    beyond `max_keys` (a forgotten key starts full, which only ever errs on the member's side)."""

    def __init__(
        self, per_minute: int, burst: int, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead; otherwise how many seconds until one token is back."""
        now = self.clock()
        tokens, stamp = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


@dataclass(frozen=True)
class GuardSettings:
    secret: str
    max_body_bytes: int = 64 * 1024
    member_per_minute: int = 300
    anonymous_per_minute: int = 120


async def _refuse(
    send: Send, status: int, title: str, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps(problem_body(status, title, detail)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class HttpGuard:
    def __init__(self, app: App, settings: GuardSettings) -> None:
        self.app = app
        self.settings = settings
        self.members = TokenBuckets(settings.member_per_minute, max(10, settings.member_per_minute // 6))
        self.anonymous = TokenBuckets(settings.anonymous_per_minute, max(10, settings.anonymous_per_minute // 6))

    def _caller(self, headers: dict[bytes, bytes], scope: Scope) -> tuple[TokenBuckets | None, str]:
        """The caller's bucket. A verified principal is kept in the request state, so `authenticate` does not
        verify the same token a second time."""
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                principal = verify_token(self.settings.secret, token)
            except Problem:
                principal = None
            if principal is not None:
                scope.setdefault("state", {})[PRINCIPAL] = principal
                if principal.role in UNLIMITED_ROLES:
                    return None, ""
                return self.members, f"member:{principal.subject}"
        client = scope.get("client") or ("unknown", 0)
        return self.anonymous, f"address:{client[0]}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        buckets, key = self._caller(headers, scope)
        if buckets is not None and (wait := buckets.take(key)) > 0:
            retry = str(max(1, math.ceil(wait))).encode()
            detail = "Too many requests in a short time; wait a moment and try again."
            await _refuse(send, 429, "Too many requests", detail, [(b"retry-after", retry)])
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _refuse(send, 400, "Bad request", NUL_DETAIL)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        declared = headers.get(b"content-length", b"").decode("latin-1")
        too_large = f"The request body is larger than {limit:,} bytes; nothing was changed."
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, "Request too large", too_large)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _refuse(send, 413, "Request too large", too_large)
                return
            if not message.get("more_body", False):
                break
        if body and not is_json(headers.get(b"content-type", b"").decode("latin-1")):
            detail = "Send the request body as JSON with Content-Type: application/json."
            await _refuse(send, 415, "Unsupported media type", detail)
            return
        if b"\\u0000" in body or b"\x00" in body:
            await _refuse(send, 400, "Bad request", NUL_DETAIL)
            return
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
