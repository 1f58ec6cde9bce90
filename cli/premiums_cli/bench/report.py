"""The benchmark's outputs: JSON under `bench/results/`, a PNG chart beside it, and the README's table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from premiums_cli.stack import project_root

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
MONTH_TARGET_MEMBERS = 100_000

# (key, label, target, higher is better)
FIGURES: tuple[tuple[str, str, float, bool], ...] = (
    ("steady_payments_per_s", "steady payments (clearing → coverage → welcome queued), per s", 800, True),
    ("email_per_s", "emails accepted by SMTP from one notifications process, per s", 600, True),
    ("portal_payments_per_s", "portal payments, per s", 300, True),
    ("portal_p99_ms", "portal p99, ms", 200, False),
    ("p99_clear_to_coverage_ms", "at 200/s: clearing → coverage updated, p99 ms", 250, False),
    ("p99_to_email_ms", "at 200/s: clearing → email accepted, p99 ms", 2000, False),
    ("month_cycle_seconds", "month cycle of 100,000 members, s", 300, False),
    ("max_rss_mb", "largest service process, peak MB", 300, False),
    ("floor_ratio", "steady throughput ÷ floor", 0.4, True),
)


def folder() -> Path:
    path = project_root() / "bench" / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(result: dict[str, Any]) -> Path:
    text = json.dumps(result, indent=2)
    path = folder() / f"{result['at'].replace(':', '')}.json"
    path.write_text(text)
    (folder() / "latest.json").write_text(text)
    return path


# Shown for context, with no target: the latencies when every payment of the run clears at once.
CONTEXT: tuple[tuple[str, str], ...] = (
    ("burst_p99_clear_to_coverage_ms", "all at once: clearing → coverage updated, p99 ms"),
    ("burst_p99_to_email_ms", "all at once: clearing → email accepted, p99 ms"),
)


def _label(label: str, result: dict[str, Any]) -> str:
    return label.replace("200/s", f"{result.get('latency_rate_per_s') or 200}/s")


def _on(machine: dict[str, Any] | None) -> str:
    if not machine:
        return ""
    on = f" on {machine['cores']} cores of {machine['cpu']}, {machine['memory_gb']:g} GB"
    if machine.get("core_ms_before") is not None:
        on += f" (a fixed piece of work took {machine['core_ms_before']} ms of one core before, "
        on += f"{machine['core_ms_after']} ms after)"
    return on


def _met(value: float, target: float, higher: bool) -> bool:
    return value >= target if higher else value <= target


def _steady(result: dict[str, Any]) -> bool:
    return bool(result.get("steady_payments") and (result.get("cleared") or result.get("floor_payments_per_s")))


def table(result: dict[str, Any]) -> str:
    rows = [
        f"Measured {result['at']} with `{result['command']}` ({result['members']:,} members in the payment phases"
        + (f", {result['steady_payments']:,} payments in the clearing burst and the floor" if _steady(result) else "")
        + (f", {result['month_cycle_members']:,} in the month cycle" if result.get("month_cycle_members") else "")
        + f"; {result.get('replicas_note', 'one process per service')})"
        + _on(result.get("machine"))
        + ".",
        "",
        "| figure | measured | target | met |",
        "|---|---|---|---|",
    ]
    for key, label, target, higher in FIGURES:
        value = result.get(key)
        shown = "not measured" if value is None else f"{value:,}"
        met = "" if value is None else ("yes" if _met(float(value), target, higher) else "no")
        month_members = result.get("month_cycle_members") or 0
        if key == "month_cycle_seconds" and value is not None and month_members < MONTH_TARGET_MEMBERS:
            shown = f"{value:,} for {month_members:,} members"
            met = "not at full size"
        rows.append(f"| {_label(label, result)} | {shown} | {'≥' if higher else '≤'} {target:,} | {met} |")
    for key, label in CONTEXT:
        if (value := result.get(key)) is not None:
            rows.append(f"| {label} | {value:,} | (no target) | |")
    if others := result.get("other_payments_cleared"):
        rows += ["", f"**{others:,} payments of an earlier run cleared in the same burst**: the steady figure is low."]
    if audited := result.get("audit"):
        rows += ["", _audit_line(audited)]
    return "\n".join(rows)


def _audit_line(audited: dict[str, Any]) -> str:
    checks = audited["checks"]
    if audited["clean"]:
        return f"Audit after the run (`premiums audit`): clean, {checks} of {checks} checks."
    broken = "; ".join(f"{name}: {', '.join(first)}" for name, first in audited["breaches"].items())
    breached = len(audited["breaches"])
    return f"Audit after the run (`premiums audit`): **{breached} of {checks} checks breached** ({broken})."


def cpu_table(result: dict[str, Any]) -> str:
    """Where each phase's CPU went: milliseconds per payment, email or member, by process (the timed part)."""
    phases = result.get("phase_cpu_ms_per_unit") or {}
    if not phases:
        return ""
    names = sorted({n for row in phases.values() for n in row if n != "total"})
    rows = [
        "CPU per unit, ms, by process (timed part of each phase; `phase_cpu` in the JSON has the seconds):",
        "",
        "| phase (unit) | " + " | ".join(names) + " | total |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for phase, row in phases.items():
        unit = result["phase_cpu"][phase]["unit"]
        cells = " | ".join(f"{row.get(n, 0.0):,.2f}" for n in names)
        rows.append(f"| {phase} ({unit}) | {cells} | {row['total']:,.2f} |")
    return "\n".join(rows)


def update_readme(result: dict[str, Any]) -> bool:
    readme = project_root() / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        return False
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    cpu = cpu_table(result)
    readme.write_text(f"{head}{START}\n{table(result)}\n" + (f"\n{cpu}\n" if cpu else "") + f"{END}{tail}")
    return True


def chart(result: dict[str, Any], path: Path) -> Path | None:
    """Each figure as a share of its target (1.0 = the target met exactly; lower-is-better figures inverted)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels, shares = [], []
    for key, label, target, higher in FIGURES:
        value = result.get(key)
        if value is None or float(value) <= 0:
            continue
        if key == "month_cycle_seconds":
            members = result.get("month_cycle_members") or 0
            value = round(float(value) * MONTH_TARGET_MEMBERS / max(members, 1), 1)
            label = f"month cycle scaled linearly from {members:,} to 100,000 members, s"
        labels.append(f"{_label(label, result)}\n{value:,} (target {target:,})")
        shares.append(float(value) / target if higher else target / float(value))
    figure, axis = plt.subplots(figsize=(10, 0.7 * len(labels) + 1.5))
    colours = ["#2e7d32" if s >= 1 else "#c62828" for s in shares]
    axis.barh(labels, shares, color=colours)
    axis.axvline(1.0, color="black", linewidth=1)
    axis.set_xscale("log")
    axis.set_xlabel("share of the target (log scale; right of the line = target met)")
    axis.set_title(f"premiums bench {result['at'][:16]}", fontsize=10)
    axis.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
