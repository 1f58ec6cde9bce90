"""`premiums stack up|down|status`: registered on the CLI's sub-parsers by `premiums_cli.main`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from premiums_cli.stack.errors import StackError
from premiums_cli.stack.lifecycle import down, scale, start_service, status, stop_service, up

SERVICE_NAMES = ("payments", "autopay", "coverage", "notifications")


def _fail(error: StackError) -> int:
    print(f"error: {error}", file=sys.stderr)
    return 1


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = ("COMPONENT", "STATE", "PID", "ADDRESS", "RSS", "LOG")
    lines = [header]
    for row in rows:
        rss = f"{row['rss_bytes'] / 2**20:.0f} MiB" if row.get("rss_bytes") else "-"
        lines.append(
            (
                row["component"],
                row["state"],
                str(row["pid"] or "-"),
                f"{row['host']}:{row['port']}",
                rss,
                row["log"],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _up(args: argparse.Namespace) -> int:
    try:
        up(infra_only=args.infra_only)
    except StackError as error:
        return _fail(error)
    rows = status()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return 0


def _down(args: argparse.Namespace) -> int:
    try:
        down()
    except StackError as error:
        return _fail(error)
    return 0


def _status(args: argparse.Namespace) -> int:
    try:
        rows = status()
    except StackError as error:
        return _fail(error)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return 0


def _restart(args: argparse.Namespace) -> int:
    """Restart services (after a code change): stop each with SIGTERM, start it, wait until ready."""
    try:
        for name in args.services or SERVICE_NAMES:
            stop_service(name)
            start_service(name)
    except StackError as error:
        return _fail(error)
    return 0


def _scale(args: argparse.Namespace) -> int:
    """Run N processes of one service (replicas 2…N listen on port + 100, + 200, …)."""
    try:
        pids = scale(args.service, args.replicas)
    except StackError as error:
        return _fail(error)
    print(f"{args.service}: {len(pids)} replica(s) running (pids {', '.join(map(str, pids))})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `stack` with `up [--infra-only] [--json]`, `down`, `status [--json]`; each sets `func`."""
    stack = subparsers.add_parser("stack", help="start, check and stop the local stack")
    commands = stack.add_subparsers(dest="stack_command", metavar="{up,down,restart,scale,status}", required=True)

    up_parser = commands.add_parser("up", help="start Kafka, PostgreSQL, the SMTP sink and the services")
    up_parser.add_argument("--infra-only", action="store_true", help="start the infrastructure alone")
    up_parser.add_argument("--json", action="store_true", help="print the resulting status as JSON")
    up_parser.set_defaults(func=_up)

    down_parser = commands.add_parser("down", help="stop exactly the processes the stack started")
    down_parser.set_defaults(func=_down)

    restart_parser = commands.add_parser("restart", help="restart services (all, or those named)")
    restart_parser.add_argument("services", nargs="*", choices=[*SERVICE_NAMES, []], metavar="SERVICE")
    restart_parser.set_defaults(func=_restart)

    scale_parser = commands.add_parser("scale", help="run N replicas of a service (one consumer group)")
    scale_parser.add_argument("service", choices=SERVICE_NAMES)
    scale_parser.add_argument("replicas", type=int)
    scale_parser.set_defaults(func=_scale)

    status_parser = commands.add_parser("status", help="what runs where")
    status_parser.add_argument("--json", action="store_true", help="machine-readable JSON")
    status_parser.set_defaults(func=_status)
