"""Where the tests find Kafka, PostgreSQL and SMTP (ARCHITECTURE §9).

`PREMIUMS_TEST_INFRA` chooses:
- `local` (default): the stack the project starts itself (`premiums stack up --infra-only`), reused when running;
- `external`: the endpoints already in the environment (KAFKA_BOOTSTRAP_SERVERS, *_DATABASE_URL, SMTP_*);
- `containers`: testcontainers, where a Docker engine runs.
A part that cannot start fails the run; nothing is skipped for missing infrastructure.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from premiums_cli import clock as business_clock
from premiums_cli import idle, stack

SERVICES = ("payments", "autopay", "coverage", "notifications")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The shared business clock only moves forward: the `dated` scenarios, which need it before the next
    December, run before the other end-to-end tests (which work relative to whatever date it shows)."""
    dated = [item for item in items if item.get_closest_marker("dated")]
    if not dated:
        return
    rest = [item for item in items if not item.get_closest_marker("dated")]
    first_e2e = next((i for i, item in enumerate(rest) if item.get_closest_marker("e2e")), len(rest))
    items[:] = rest[:first_e2e] + dated + rest[first_e2e:]


def _export_local_environment() -> None:
    for key, value in stack.local_environment().items():
        os.environ.setdefault(key, value)


def _running() -> set[str]:
    return {row["component"] for row in stack.status() if row["state"] == "running"}


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[None]:
    mode = os.environ.get("PREMIUMS_TEST_INFRA", "local")
    if mode == "external":
        yield
        return
    if mode == "containers":
        from tests.containers import containers  # needs a Docker engine

        with containers():
            yield
        return
    _export_local_environment()
    started_here = not (_running() >= {"kafka", "postgres", "smtp"})
    try:
        stack.up(infra_only=True)
    except stack.StackError as exc:
        pytest.fail(f"the local stack could not start, so the tests cannot run: {exc}", pytrace=False)
    yield
    if started_here and os.environ.get("PREMIUMS_KEEP_STACK") != "1":
        stack.down()


@pytest.fixture(scope="session")
def system(infrastructure: None) -> Iterator[None]:
    """The four services running as separate processes, as `premiums stack up` starts them."""
    before = _running()
    try:
        stack.up()
    except stack.StackError as exc:
        pytest.fail(f"the services could not start: {exc}", pytrace=False)
    if asyncio.run(business_clock.current_date()) is None:
        asyncio.run(business_clock.tick())  # a fresh stack's simulated clock starts today in New York
        asyncio.run(idle.wait_idle())
    yield
    if os.environ.get("PREMIUMS_KEEP_STACK") != "1":
        for service in SERVICES:
            if service not in before:
                stack.stop_service(service)
