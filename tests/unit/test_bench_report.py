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


def test_phase_cpu_adds_up_blocks_and_divides_by_units(monkeypatch: Any) -> None:
    """A phase measured in several blocks (the latency phase's clearing days) adds up; per unit is CPU ms each
    process spent per payment, with the total."""
    from premiums_cli.bench import measure

    readings = iter([{"kafka": 1.0, "payments": 2.0}, {"kafka": 1.5, "payments": 4.0}] * 2)
    monkeypatch.setattr(
        measure, "process_usage", lambda: {k: {"cpu_seconds": v, "peak_rss_mb": 1.0} for k, v in next(readings).items()}
    )
    monkeypatch.setattr(measure.time, "process_time", iter([0.0, 0.1, 1.0, 1.1]).__next__)
    cpu = measure.PhaseCpu()
    for _ in range(2):
        with cpu.measure("latency: clearing", "payment", 100):
            pass
    assert cpu.phases["latency: clearing"]["units"] == 200
    assert cpu.phases["latency: clearing"]["cpu_seconds"] == {"kafka": 1.0, "payments": 4.0, "bench": 0.2}
    assert cpu.per_unit_ms() == {"latency: clearing": {"kafka": 5.0, "payments": 20.0, "bench": 1.0, "total": 26.0}}


def test_the_cpu_table_has_a_row_per_phase_and_a_column_per_process() -> None:
    from premiums_cli.bench.report import cpu_table

    result = _result(
        phase_cpu={"portal": {"unit": "payment"}, "email": {"unit": "email"}},
        phase_cpu_ms_per_unit={
            "portal": {"payments": 4.5, "kafka": 2.0, "total": 6.5},
            "email": {"notifications": 1.1, "total": 1.1},
        },
    )
    rows = cpu_table(result).splitlines()
    assert rows[2] == "| phase (unit) | kafka | notifications | payments | total |"
    assert "| portal (payment) | 2.00 | 0.00 | 4.50 | 6.50 |" in rows
    assert "| email (email) | 0.00 | 1.10 | 0.00 | 1.10 |" in rows
    assert cpu_table(_result()) == ""


def test_the_table_names_the_machine_it_measured() -> None:
    """The same code measured about three times faster on one 2-core machine than on another: a figure
    without its machine cannot be compared."""
    from premiums_cli.bench.measure import machine

    here = machine()
    assert here["cores"] >= 1 and here["memory_gb"] > 0 and here["cpu"]
    first = table(_result(machine={"cpu": "AMD EPYC", "cores": 2, "memory_gb": 23.5})).splitlines()[0]
    assert first.endswith("on 2 cores of AMD EPYC, 23.5 GB.")
    assert table(_result()).splitlines()[0].endswith("members in the payment phases; one process per service).")


def test_the_table_says_how_fast_a_core_was_before_and_after_the_run() -> None:
    """The same core did the same work at different speeds from one run to the next on a shared machine; the
    run records a fixed piece of work's time at both ends so a figure's spread can be told from the code's."""
    from premiums_cli.bench.measure import core_speed_ms

    assert core_speed_ms(rounds=1) > 0
    speeds = {"cpu": "AMD EPYC", "cores": 2, "memory_gb": 23.5, "core_ms_before": 41.2, "core_ms_after": 58.9}
    first = table(_result(machine=speeds)).splitlines()[0]
    assert first.endswith("23.5 GB (a fixed piece of work took 41.2 ms of one core before, 58.9 ms after).")


def test_the_audit_after_a_run_is_recorded_and_a_breach_is_named() -> None:
    """Issue 8: throughput must not cost correctness; each run ends with `premiums audit` and says what it found."""
    from premiums_cli.audit import Check, summary

    clean = summary([Check("a", 10, []), Check("b", 3, [])])
    assert clean == {"clean": True, "checks": 2, "checked": {"a": 10, "b": 3}, "breaches": {}}
    assert table(_result(audit=clean)).endswith("Audit after the run (`premiums audit`): clean, 2 of 2 checks.")
    broken = summary([Check("a", 10, []), Check("one confirmation", 3, [f"pay_{n}: 2 sent" for n in range(9)])])
    assert not broken["clean"] and broken["breaches"] == {"one confirmation": [f"pay_{n}: 2 sent" for n in range(5)]}
    assert "**1 of 2 checks breached** (one confirmation: pay_0: 2 sent, pay_1" in table(_result(audit=broken))


def test_the_table_names_the_size_of_the_clearing_burst_and_of_the_floor() -> None:
    """The ratio compares the same number of payments on both sides (a burst of 1,000 measures mostly the
    first payment's trip through three hops); the table says how many, and only when a run had them."""
    measured = _result(steady_payments=10_000, cleared=10_000, floor_payments_per_s=4_563.5)
    first = table(measured).splitlines()[0]
    assert "1,000 members in the payment phases, 10,000 payments in the clearing burst and the floor;" in first
    assert "clearing burst" not in table(_result(steady_payments=10_000)).splitlines()[0]


def test_payments_of_an_earlier_run_in_the_burst_are_named_under_the_table() -> None:
    """A portal-only run leaves its payments to the next clearing day, whose window then holds their work too."""
    assert "8,000 payments of an earlier run cleared in the same burst" in table(_result(other_payments_cleared=8000))
    assert "earlier run" not in table(_result(other_payments_cleared=0))
