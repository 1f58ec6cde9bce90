"""The runtime's garbage-collector tuning: thresholds from the environment, and collections measured."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from premiums_common import gc_tuning


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)
    if gc_tuning._measure in gc.callbacks:
        gc.callbacks.remove(gc_tuning._measure)


def test_tuning_freezes_start_up_and_raises_the_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREMIUMS_GC_THRESHOLDS", raising=False)
    gc_tuning.tune()
    assert gc.get_threshold() == gc_tuning.DEFAULT_THRESHOLDS
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize(("setting", "expected"), [("700,10,10", (700, 10, 10)), ("off", (123, 4, 5))])
def test_the_environment_chooses_the_thresholds_or_leaves_them(
    monkeypatch: pytest.MonkeyPatch, setting: str, expected: tuple[int, int, int]
) -> None:
    gc.set_threshold(123, 4, 5)
    monkeypatch.setenv("PREMIUMS_GC_THRESHOLDS", setting)
    gc_tuning.tune()
    assert gc.get_threshold() == expected


def test_collections_are_counted_in_seconds_by_generation() -> None:
    gc_tuning.measure()
    gc_tuning.measure()  # once only
    assert gc.callbacks.count(gc_tuning._measure) == 1
    before = gc_tuning.GC_SECONDS.labels("2")._value.get()
    gc.collect()
    assert gc_tuning.GC_SECONDS.labels("2")._value.get() > before
