"""The metrics ops need are on every service's `/metrics` during a run (issue: operate and scale)."""

from __future__ import annotations

import httpx
import pytest
from premiums_common.settings import SERVICE_PORTS

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

EVERY_SERVICE = (
    "premiums_http_request_seconds",
    "premiums_events_handled_total",
    "premiums_consumer_batch_records",
    "premiums_consumer_batch_seconds",
    "premiums_consumer_lag",
    "premiums_dead_letters_total",
    "premiums_outbox_backlog",
    "premiums_outbox_oldest_seconds",
)
OWN = {"payments": ("premiums_payments_return_rate",), "notifications": ("premiums_notices_sent_total",)}


@pytest.mark.parametrize("service", list(SERVICE_PORTS))
async def test_metrics_are_exposed(service: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        await http.get(f"http://127.0.0.1:{SERVICE_PORTS[service]}/healthz")  # at least one request measured
        text = (await http.get(f"http://127.0.0.1:{SERVICE_PORTS[service]}/metrics")).text
    missing = [m for m in (*EVERY_SERVICE, *OWN.get(service, ())) if f"# TYPE {m}" not in text and m not in text]
    assert missing == [], f"{service} /metrics lacks {missing}"
    lags = [line for line in text.splitlines() if line.startswith("premiums_consumer_lag{")]
    assert any(f'group="{service}"' in line for line in lags), lags
