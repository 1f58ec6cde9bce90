"""The shared HTTP front door (issue 7): oversized bodies, wrong content types and floods are refused as
RFC 9457 problems before any route runs; staff and internal services are not rate limited."""

from __future__ import annotations

import httpx
from premiums_common.auth import mint_token
from premiums_common.http_guard import GuardSettings, HttpGuard, TokenBuckets, is_json
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET = "unit-test-secret-unit-test-secret"
reached: list[bytes] = []


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    reached.append(body)
    return JSONResponse({"bytes": len(body)})


def client(**limits: int) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/v1/things", echo, methods=["GET", "POST"]), Route("/healthz", echo)])
    guarded = HttpGuard(app, GuardSettings(secret=SECRET, **limits))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://svc")


def bearer(subject: str, role: str = "member") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, subject, role)}"}  # type: ignore[arg-type]


async def test_a_body_over_the_limit_is_refused_with_413_and_the_route_never_runs() -> None:
    reached.clear()
    async with client(max_body_bytes=100) as http:
        response = await http.post("/v1/things", content=b'{"a": "' + b"x" * 200 + b'"}', headers=JSON)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert "larger than 100 bytes" in response.json()["detail"]

        async def stream() -> object:
            for _ in range(5):
                yield b"x" * 40

        streamed = await http.post("/v1/things", content=stream(), headers=JSON)  # no Content-Length
        assert streamed.status_code == 413
        ok = await http.post("/v1/things", json={"a": 1}, headers=JSON)
        assert ok.status_code == 200
    assert reached == [b'{"a":1}'], "only the small request reached the route"


JSON = {"Content-Type": "application/json"}


async def test_a_body_that_is_not_json_is_refused_with_415() -> None:
    async with client() as http:
        form = await http.post("/v1/things", content=b"amount=10", headers={"Content-Type": "text/plain"})
        assert form.status_code == 415 and "application/json" in form.json()["detail"]
        assert (await http.post("/v1/things", json={"ok": True})).status_code == 200
        assert (await http.post("/v1/things")).status_code == 200, "an empty body needs no content type"


def test_json_media_types() -> None:
    assert is_json("application/json; charset=utf-8") and is_json("application/merge-patch+json")
    assert not is_json("text/json") and not is_json("") and not is_json("multipart/form-data")


async def test_a_member_over_the_rate_limit_gets_429_with_retry_after_and_others_are_not_affected() -> None:
    async with client(member_per_minute=60) as http:
        codes = [(await http.get("/v1/things", headers=bearer("111111111111"))).status_code for _ in range(12)]
        assert codes[:10] == [200] * 10, "a burst of 10 goes through"
        assert codes[10:] == [429, 429]
        limited = await http.get("/v1/things", headers=bearer("111111111111"))
        assert int(limited.headers["retry-after"]) >= 1 and limited.json()["title"] == "Too many requests"
        assert (await http.get("/v1/things", headers=bearer("222222222222"))).status_code == 200
        for _ in range(20):
            assert (await http.get("/v1/things", headers=bearer("S1", "staff"))).status_code == 200
        assert (await http.get("/healthz")).status_code == 200, "health probes are never limited"


async def test_forged_tokens_share_the_callers_address_bucket_instead_of_getting_fresh_ones() -> None:
    forged = {"Authorization": f"Bearer {mint_token('another-secret-another-secret-xx', 'x', 'member')}"}
    async with client(anonymous_per_minute=60) as http:
        codes = [(await http.get("/v1/things", headers=forged)).status_code for _ in range(11)]
    assert codes.count(429) == 1 and codes[-1] == 429


def test_token_buckets_refill_at_the_configured_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, 2, clock=lambda: now[0])
    assert buckets.take("a") == 0.0 and buckets.take("a") == 0.0
    assert buckets.take("a") == 1.0, "one token a second: wait a second"
    now[0] += 1.0
    assert buckets.take("a") == 0.0


def test_token_buckets_forget_the_oldest_keys_beyond_their_bound() -> None:
    buckets = TokenBuckets(60, 1, max_keys=2, clock=lambda: 0.0)
    for key in ("a", "b", "c"):
        buckets.take(key)
    assert buckets.take("a") == 0.0, "a was forgotten and starts full again"
    assert buckets.take("c") > 0.0


async def test_nul_characters_in_path_query_or_body_are_refused_with_400() -> None:
    """Found by the fuzz run: PostgreSQL text cannot hold NUL, and asyncpg failed with a 500."""
    reached.clear()
    async with client() as http:
        for response in (
            await http.get("/v1/things%00"),
            await http.get("/v1/things", params={"enrollment_id": "RefID\x00"}),
            await http.post("/v1/things", content=b'{"zip": "\\u0000"}', headers=JSON),
        ):
            assert response.status_code == 400 and "NUL" in response.json()["detail"], response.text
    assert reached == []
