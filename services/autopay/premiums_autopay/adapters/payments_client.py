"""payments' HTTP API as autopay sees it: is this instrument token a validated account of this member?"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

import httpx

DEFAULT_PAYMENTS_URL = "http://127.0.0.1:8001"
TIMEOUT_SECONDS = 5.0


class PaymentsUnavailable(Exception):
    """payments did not answer in time, or answered with an error that is not about the account."""


@dataclass(frozen=True)
class VaultedAccount:
    instrument_token: str
    member_id: str
    account_last4: str
    account_type: str | None
    validated: bool


class PaymentsClient:
    """One HTTP client for the process, opened on first use and kept: a new `httpx.AsyncClient` per call
    builds a TLS context and a connection each time (tens of milliseconds of CPU per AutoPay set-up)."""

    def __init__(self, base_url: str | None = None, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = (base_url or os.environ.get("PAYMENTS_URL") or DEFAULT_PAYMENTS_URL).rstrip("/")
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None or self._http.is_closed:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def bank_account(self, instrument_token: str, bearer: str) -> VaultedAccount | None:
        """The vaulted account behind `instrument_token` if the caller may see it; None if not (404)."""
        url = f"{self.base_url}/v1/bank-accounts/{quote(instrument_token, safe='')}"
        try:
            response = await self._client().get(url, headers={"Authorization": f"Bearer {bearer}"})
        except httpx.HTTPError as exc:
            raise PaymentsUnavailable(str(exc)) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PaymentsUnavailable(f"payments answered {response.status_code}")
        body = response.json()
        return VaultedAccount(
            instrument_token=body["instrument_token"],
            member_id=body["member_id"],
            account_last4=body["account_last4"],
            account_type=body.get("account_type"),
            validated=bool(body.get("validated", False)),
        )
