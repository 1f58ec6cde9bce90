"""What every phase of the benchmark shares: a progress bar, percentiles, and each process's CPU and memory."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from premiums_cli.stack import status

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


def _stat(pid: int) -> tuple[int, float, float]:
    """(parent pid, CPU seconds of the process itself, CPU seconds of its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _children_cpu(parent: int) -> float:
    """Live child processes' CPU: PostgreSQL's backends (one per connection), notifications' render workers."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid, own, reaped = _stat(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent:
            total += own + reaped
    return total


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_usage() -> dict[str, dict[str, float]]:
    """CPU seconds (with live child processes: PostgreSQL's backends, render workers) and peak resident memory
    of each process of the stack."""
    usage = {}
    for row in status():
        pid = row.get("pid")
        if not pid or row["state"] != "running":
            continue
        try:
            _, own, reaped = _stat(pid)
            cpu = own + reaped + _children_cpu(pid)
            usage[row["component"]] = {"cpu_seconds": cpu, "peak_rss_mb": _peak_rss_mb(pid)}
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
