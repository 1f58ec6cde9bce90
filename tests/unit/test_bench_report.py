"""`premiums bench`'s report: percentiles, and the README table judging each figure against its target."""

from __future__ import annotations

from typing import Any

from premiums_cli.bench.measure import percentile
from premiums_cli.bench.report import table


def _result(**figures: Any) -> dict[str, Any]:
    return {"at": "2026-11-28T00:00:00+00:00", "command": "premiums bench", "members": 1000, **figures}


def test_percentiles_pick_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 99) is None


def test_each_figure_is_judged_in_its_own_direction() -> None:
    rows = table(_result(steady_payments_per_s=900.0, portal_p99_ms=450.0)).splitlines()
    steady = next(r for r in rows if r.startswith("| steady payments"))
    portal = next(r for r in rows if r.startswith("| portal p99"))
    assert steady.endswith("| yes |") and "900.0" in steady
    assert portal.endswith("| no |") and "450.0" in portal
    assert any("not measured" in r for r in rows if r.startswith("| emails"))


def test_a_month_cycle_smaller_than_the_target_size_is_not_called_met() -> None:
    rows = table(_result(month_cycle_seconds=120.0, month_cycle_members=4000)).splitlines()
    month = next(r for r in rows if r.startswith("| month cycle"))
    assert "120.0 for 4,000 members" in month and month.endswith("| not at full size |")
    full = table(_result(month_cycle_seconds=280.0, month_cycle_members=100_000))
    assert next(r for r in full.splitlines() if r.startswith("| month cycle")).endswith("| yes |")
