"""Progress lines on stderr (`kafka: starting…`, `kafka: ready in 7.4 s`); thread-safe, one line at a time."""

from __future__ import annotations

import sys
import threading
import time

_LOCK = threading.Lock()


def say(component: str, message: str) -> None:
    with _LOCK:
        print(f"{component}: {message}", file=sys.stderr, flush=True)


class Stopwatch:
    def __init__(self) -> None:
        self._started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def __str__(self) -> str:
        return f"{self.elapsed:.1f} s"
