"""What every phase of the benchmark shares: a progress bar, percentiles, and each process's CPU and memory."""

from __future__ import annotations

import contextlib
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from premiums_cli.stack import running_pids

_SHOWN: dict[str, int] = {}


def progress(label: str, done: int, total: int) -> None:
    """A bar redrawn in place on a terminal; in a log, one line per tenth."""
    width = 30
    filled = int(width * done / max(total, 1))
    step = filled if sys.stderr.isatty() else filled // 3
    if _SHOWN.get(label) == step and done < total:
        return
    _SHOWN[label] = step
    line = f"  {label:<32} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"
    if sys.stderr.isatty():
        print(f"\r{line}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
    else:
        print(line, file=sys.stderr, flush=True)
    if done >= total:
        _SHOWN.pop(label, None)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 1)


def machine() -> dict[str, Any]:
    """The machine a run measured: figures are comparable only between runs on the same processor.

    The same code measured about three times faster on one 2-core machine than on another of the same size
    (see the README's Performance section), so every result says which it was."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
    }


def core_speed_ms(rounds: int = 5) -> float:
    """Milliseconds one core takes for a fixed piece of work (Python arithmetic and a SHA-256), the median of
    `rounds`. Taken at the start and the end of a run: on a shared virtual machine the same core was seen to
    do the same work at different speeds from one run to the next, so a figure's spread can be told apart
    from the code's."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(200_000):
            total += i * i % 7
        hashlib.sha256(total.to_bytes(8, "big") * 250_000).digest()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def _stat(pid: int) -> tuple[int, float, float]:
    """(parent pid, CPU seconds of the process itself, CPU seconds of its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _children_cpu() -> dict[int, float]:
    """Live child processes' CPU by parent pid: PostgreSQL's backends (one per connection), notifications'
    render workers. One pass over /proc for every component (a pass per component cost 0.4 s of CPU)."""
    totals: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid, own, reaped = _stat(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
        totals[ppid] = totals.get(ppid, 0.0) + own + reaped
    return totals


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_usage() -> dict[str, dict[str, float]]:
    """CPU seconds (with live child processes: PostgreSQL's backends, render workers) and peak resident memory
    of each process of the stack."""
    usage = {}
    children = _children_cpu()
    # From the pid files: `status()` probes every component (0.5 s of the benchmark's CPU per call).
    for name, pid in running_pids().items():
        try:
            _, own, reaped = _stat(pid)
            cpu = own + reaped + children.get(pid, 0.0)
            usage[name] = {"cpu_seconds": cpu, "peak_rss_mb": _peak_rss_mb(pid)}
        except (OSError, IndexError, ValueError):
            continue
    return usage


def usage_between(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, Any]:
    return {
        name: {
            "cpu_seconds": round(after[name]["cpu_seconds"] - before.get(name, {}).get("cpu_seconds", 0.0), 2),
            "peak_rss_mb": round(after[name]["peak_rss_mb"], 1),
        }
        for name in after
    }


class PhaseCpu:
    """CPU seconds each process of the stack spent in the timed part of each phase, to say per payment, email
    or member what a phase cost and which process dominates (`phase_cpu` in the results)."""

    def __init__(self) -> None:
        self.phases: dict[str, dict[str, Any]] = {}

    @contextlib.contextmanager
    def measure(self, phase: str, unit: str, units: int = 0) -> Iterator[None]:
        """Adds the block's CPU to `phase` (a phase measured in several blocks, such as the latency phase's
        clearing days, adds up); `units` may also be given later (`count`)."""
        entry = self.phases.setdefault(phase, {"unit": unit, "units": 0, "seconds": 0.0, "cpu_seconds": {}})
        entry["units"] += units
        before, own, started = process_usage(), time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            # The load generator (and the floor) share the cores; read before scanning /proc, which is ours.
            own = time.process_time() - own
            after = process_usage()
            entry["seconds"] = round(entry["seconds"] + time.perf_counter() - started, 2)
            spent = {name: usage["cpu_seconds"] for name, usage in usage_between(before, after).items()}
            spent["bench"] = own
            for name, cpu in spent.items():
                entry["cpu_seconds"][name] = round(entry["cpu_seconds"].get(name, 0.0) + cpu, 2)

    def count(self, phase: str, units: int) -> None:
        """The units a phase's CPU is divided by, once known (the month's members are counted after it)."""
        self.phases[phase]["units"] = units

    def per_unit_ms(self) -> dict[str, dict[str, float]]:
        """Each phase's CPU milliseconds per unit, by process, with the total."""
        table = {}
        for phase, entry in self.phases.items():
            if not entry["units"]:
                continue
            row = {name: round(1000 * cpu / entry["units"], 2) for name, cpu in entry["cpu_seconds"].items()}
            row["total"] = round(sum(row.values()), 2)
            table[phase] = row
        return table


PHASE_CPU = PhaseCpu()
