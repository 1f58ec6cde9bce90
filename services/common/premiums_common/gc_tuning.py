"""The garbage collector of a long-running service: measured, and tuned for batches of thousands of events.

CPython's cyclic collector runs its youngest generation every 700 allocations, and each older pass walks
every tracked object the process holds: the imported framework, the app and its pools included. A consumer
that decodes a batch of 500 events allocates hundreds of thousands of objects, so with the default
thresholds it collects hundreds of times a batch. After start-up, `tune` moves everything alive into the
permanent generation (`gc.freeze`: never walked again) and raises the thresholds; `premiums_gc_seconds_total`
shows what collection costs, tuned or not.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

from prometheus_client import Counter

GC_SECONDS = Counter("premiums_gc_seconds_total", "Time spent in the cyclic garbage collector", ["generation"])
DEFAULT_THRESHOLDS = (50_000, 20, 100)

_started: list[float] = []


def _measure(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
    elif _started:
        GC_SECONDS.labels(str(info["generation"])).inc(time.perf_counter() - _started.pop())


def measure() -> None:
    if _measure not in gc.callbacks:
        gc.callbacks.append(_measure)


def tune() -> None:
    """Freeze what start-up built and collect less often (`PREMIUMS_GC_THRESHOLDS=700,10,10` restores the
    interpreter's defaults; `off` leaves the collector as it is)."""
    setting = os.environ.get("PREMIUMS_GC_THRESHOLDS", "")
    if setting == "off":
        return
    thresholds = tuple(int(part) for part in setting.split(",")) if setting else DEFAULT_THRESHOLDS
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
