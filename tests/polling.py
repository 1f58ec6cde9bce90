"""Waiting for asynchronous outcomes in tests: poll with a deadline, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll `check` until it returns something truthy; fail with the last value after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        last = await check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}: last={last!r}")
        await asyncio.sleep(interval)


async def stays(
    check: Callable[[], Awaitable[bool]], *, duration: float, interval: float = 0.05, what: str = ""
) -> None:
    """Assert `check` holds during the whole of `duration` s (for "nothing else happens" claims)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert await check(), f"no longer true: {what or check}"
        await asyncio.sleep(interval)
