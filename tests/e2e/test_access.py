"""Who may call what (issue 7): every endpoint of the four services, against the running processes, with no
token, an expired token, a forged signature, a token without a known role, another member's token and a
member token on staff endpoints. A refused call is an RFC 9457 problem that reveals nothing of the owner,
and the owner's data is unchanged afterwards. Full account numbers and the signing secret appear in no
response body and no /metrics page. Hostile bodies (oversized, not JSON, injection strings) are refused
cleanly, and a flood from one member is slowed with 429 while other members are served.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from premiums_cli.stack import local_environment
from premiums_cli.token import token_for
from premiums_contracts.events import EnrollmentSubmitted

from tests.e2e.support import PAYMENTS, premiums
from tests.e2e.test_payments_channels import bank, billed_enrollment, member_auth, portal_payment, staff_auth

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

AUTOPAY, COVERAGE, NOTIFICATIONS = "http://127.0.0.1:8002", "http://127.0.0.1:8003", "http://127.0.0.1:8004"
ACCOUNT = "90817263544536"  # the owner's full account number: must never come back in any response
STRANGER = "999000111222"


@dataclass
class Owner:
    enrollment: EnrollmentSubmitted
    instrument_token: str
    payment_id: str
    mandate_id: str

    @property
    def member_id(self) -> str:
        return self.enrollment.member_id


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: str
    body: dict[str, Any] | None = None
    staff_only: bool = False
    owner_scoped: bool = True  # another member must not reach the owner's data through it


def endpoints(o: Owner) -> list[Endpoint]:
    e = o.enrollment.enrollment_id
    pay = {
        "enrollment_id": e,
        "amount": "1.00",
        "payment_method": {"type": "bank_account", "instrument_token": o.instrument_token},
    }
    return [
        Endpoint("POST", f"{PAYMENTS}/v1/bank-accounts", {"account_number": "1"}, owner_scoped=False),
        Endpoint("GET", f"{PAYMENTS}/v1/bank-accounts/{o.instrument_token}"),
        Endpoint("POST", f"{PAYMENTS}/v1/payments/preview", pay),
        Endpoint("POST", f"{PAYMENTS}/v1/payments", pay),
        Endpoint("GET", f"{PAYMENTS}/v1/payments", owner_scoped=False),
        Endpoint("GET", f"{PAYMENTS}/v1/payments/{o.payment_id}"),
        Endpoint("POST", f"{PAYMENTS}/v1/staff/payments", {"channel": "phone"}, staff_only=True),
        Endpoint("GET", f"{PAYMENTS}/v1/staff/unapplied", staff_only=True),
        Endpoint("POST", f"{PAYMENTS}/v1/staff/unapplied/{o.payment_id}/apply", {"enrollment_id": e}, staff_only=True),
        Endpoint(
            "POST",
            f"{AUTOPAY}/v1/autopay",
            {
                "enrollment_id": e,
                "instrument_token": o.instrument_token,
                "authorization_text_version": "autopay-web-2026-01",
            },
        ),
        Endpoint("GET", f"{AUTOPAY}/v1/autopay?enrollment_id={e}"),
        Endpoint("DELETE", f"{AUTOPAY}/v1/autopay/{o.mandate_id}"),
        Endpoint("GET", f"{AUTOPAY}/v1/billing/{e}"),
        Endpoint("GET", f"{COVERAGE}/v1/enrollments/{e}"),
        Endpoint("GET", f"{COVERAGE}/v1/enrollments/{e}/invoices"),
        Endpoint("GET", f"{COVERAGE}/v1/members/{o.member_id}/enrollments"),
        Endpoint("POST", f"{COVERAGE}/v1/enrollments/{e}/reinstatement"),
        Endpoint("GET", f"{NOTIFICATIONS}/v1/members/{o.member_id}/preferences"),
        Endpoint("PUT", f"{NOTIFICATIONS}/v1/members/{o.member_id}/preferences", {"language": "es"}),
        Endpoint("GET", f"{NOTIFICATIONS}/v1/members/{o.member_id}/notifications"),
    ]


def secret() -> str:
    return local_environment()["PREMIUMS_JWT_SECRET"]


def bad_credentials(member_id: str) -> dict[str, dict[str, str]]:
    now = int(time.time())
    expired = jwt.encode(
        {"sub": member_id, "role": "member", "iss": "premiums", "iat": now - 7200, "exp": now - 3600},
        secret(),
        algorithm="HS256",
    )
    forged = jwt.encode(
        {"sub": member_id, "role": "staff", "iss": "premiums", "exp": now + 3600},
        "not-the-secret-" * 3,
        algorithm="HS256",
    )
    no_role = jwt.encode(
        {"sub": member_id, "role": "admin", "iss": "premiums", "exp": now + 3600}, secret(), algorithm="HS256"
    )
    return {
        "no token": {},
        "expired token": {"Authorization": f"Bearer {expired}"},
        "forged signature": {"Authorization": f"Bearer {forged}"},
        "unknown role": {"Authorization": f"Bearer {no_role}"},
        "not a bearer token": {"Authorization": f"Basic {member_id}"},
    }


async def call(http: httpx.AsyncClient, endpoint: Endpoint, headers: dict[str, str]) -> httpx.Response:
    """One call; a 429 (the shared per-address bucket of anonymous callers) is waited out and retried."""
    extra = {"Idempotency-Key": str(uuid.uuid4())} if endpoint.method == "POST" else {}
    for _ in range(10):
        response = await http.request(endpoint.method, endpoint.url, headers={**headers, **extra}, json=endpoint.body)
        if response.status_code != 429:
            return response
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))
    return response


def assert_refused(response: httpx.Response, statuses: tuple[int, ...], what: str) -> None:
    assert response.status_code in statuses, f"{what}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), what
    assert response.json()["detail"], what
    assert ACCOUNT not in response.text and secret() not in response.text, what


@pytest.fixture(scope="module")
async def owner() -> Owner:
    async with httpx.AsyncClient(timeout=30) as http:
        e = await billed_enrollment(http)
        vaulted = await http.post(
            f"{PAYMENTS}/v1/bank-accounts",
            headers=member_auth(e),
            json={k: v for k, v in bank(ACCOUNT).items() if k != "type"},
        )
        assert vaulted.status_code == 201, vaulted.text
        token = vaulted.json()["instrument_token"]
        paid = await portal_payment(http, e, "000123450000")
        mandate = await http.post(
            f"{AUTOPAY}/v1/autopay",
            headers=member_auth(e),
            json={
                "enrollment_id": e.enrollment_id,
                "instrument_token": token,
                "authorization_text_version": "autopay-web-2026-01",
            },
        )
        assert mandate.status_code == 201, mandate.text
        return Owner(e, token, paid["payment_id"], mandate.json()["mandate_id"])


async def snapshot(http: httpx.AsyncClient, o: Owner) -> list[str]:
    """What the owner sees of their own data (the refused calls must not change any of it)."""
    auth = member_auth(o.enrollment)
    urls = [
        f"{PAYMENTS}/v1/payments/{o.payment_id}",
        f"{PAYMENTS}/v1/bank-accounts/{o.instrument_token}",
        f"{AUTOPAY}/v1/autopay?enrollment_id={o.enrollment.enrollment_id}",
        f"{COVERAGE}/v1/enrollments/{o.enrollment.enrollment_id}",
        f"{NOTIFICATIONS}/v1/members/{o.member_id}/preferences",
    ]
    return [json.dumps((await http.get(url, headers=auth)).json(), sort_keys=True) for url in urls]


async def test_every_endpoint_refuses_missing_expired_forged_and_roleless_tokens(owner: Owner) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        before = await snapshot(http, owner)
        for endpoint in endpoints(owner):
            for what, headers in bad_credentials(owner.member_id).items():
                response = await call(http, endpoint, headers)
                assert_refused(response, (401,), f"{endpoint.method} {endpoint.url} with {what}")
        assert await snapshot(http, owner) == before, "nothing changed"


async def test_another_members_token_reaches_nothing_of_the_owner_and_member_tokens_are_not_staff(owner: Owner) -> None:
    stranger = {"Authorization": f"Bearer {token_for(STRANGER, 'member')}"}
    async with httpx.AsyncClient(timeout=30) as http:
        before = await snapshot(http, owner)
        for endpoint in endpoints(owner):
            response = await call(http, endpoint, stranger)
            what = f"{endpoint.method} {endpoint.url} as another member"
            if endpoint.staff_only:
                assert_refused(response, (403,), what)
            elif endpoint.owner_scoped:
                assert_refused(response, (403, 404, 422), what)
            else:
                assert owner.payment_id not in response.text and owner.instrument_token not in response.text, what
        assert await snapshot(http, owner) == before, "nothing changed"
        mine = await http.get(f"{PAYMENTS}/v1/payments/{owner.payment_id}", headers=member_auth(owner.enrollment))
        assert mine.status_code == 200, "the owner still reaches their own payment"
        staff = await http.get(f"{PAYMENTS}/v1/payments/{owner.payment_id}", headers=staff_auth())
        assert staff.status_code == 200, "staff reach any member's payment"


INJECTIONS = [
    "'; DROP TABLE payments; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "{{7*7}}",
    "\u0000",
    "RefID1' OR '1'='1",
]


async def test_hostile_bodies_are_refused_cleanly_and_change_nothing(owner: Owner) -> None:
    auth = member_auth(owner.enrollment)
    async with httpx.AsyncClient(timeout=30) as http:
        before = await snapshot(http, owner)
        big = await http.post(
            f"{PAYMENTS}/v1/payments",
            headers={**auth, "Content-Type": "application/json"},
            content=b'{"x":"' + b"9" * 200_000 + b'"}',
        )
        assert_refused(big, (413,), "an oversized body")
        form = await http.post(
            f"{PAYMENTS}/v1/payments",
            headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
            content=b"amount=1",
        )
        assert_refused(form, (415,), "a form body")
        broken = await http.post(
            f"{PAYMENTS}/v1/payments", headers={**auth, "Content-Type": "application/json"}, content=b'{"amount": '
        )
        assert_refused(broken, (422,), "broken JSON")
        for text in INJECTIONS:
            for endpoint in (
                Endpoint(
                    "POST",
                    f"{PAYMENTS}/v1/payments",
                    {"enrollment_id": text, "amount": "1.00", "payment_method": bank(text)},
                ),
                Endpoint("GET", f"{COVERAGE}/v1/enrollments/{quote(text, safe='')}"),
                Endpoint("PUT", f"{NOTIFICATIONS}/v1/members/{owner.member_id}/preferences", {"language": text}),
                Endpoint(
                    "POST",
                    f"{AUTOPAY}/v1/autopay",
                    {"enrollment_id": text, "instrument_token": text, "authorization_text_version": text},
                ),
            ):
                response = await call(http, endpoint, auth)
                assert 400 <= response.status_code < 500, f"{endpoint.url} with {text!r}: {response.status_code}"
                assert response.headers["content-type"].startswith("application/problem+json")
        assert await snapshot(http, owner) == before, "nothing changed"


async def test_a_flood_from_one_member_is_slowed_with_429_while_another_member_is_served(owner: Owner) -> None:
    flood = {"Authorization": f"Bearer {token_for('777000111222', 'member')}"}
    async with httpx.AsyncClient(timeout=30) as http:
        url = f"{COVERAGE}/v1/members/777000111222/enrollments"
        codes = await asyncio.gather(*(http.get(url, headers=flood) for _ in range(120)))
        statuses = [r.status_code for r in codes]
        assert 429 in statuses and 200 in statuses, statuses
        limited = next(r for r in codes if r.status_code == 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert_refused(limited, (429,), "a flood")
        served = await http.get(
            f"{COVERAGE}/v1/enrollments/{owner.enrollment.enrollment_id}", headers=member_auth(owner.enrollment)
        )
        assert served.status_code == 200, "another member is not slowed down"


async def test_no_metrics_page_shows_an_account_number_or_the_signing_secret(owner: Owner) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for base in (PAYMENTS, AUTOPAY, COVERAGE, NOTIFICATIONS):
            page = (await http.get(f"{base}/metrics")).text
            assert "http_requests" in page or "premiums" in page, base
            assert ACCOUNT not in page and secret() not in page and local_environment()["PREMIUMS_DATA_KEY"] not in page
    premiums("wait-idle")
