"""The `premiums` command line (ARCHITECTURE §8)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from premiums_cli import audit, bench, clock, demo, dlq, docs, idle, manifests, member, token, topics
from premiums_cli.stack import command as stack_command
from premiums_cli.stack import local_environment


def _wait_idle(args: argparse.Namespace) -> int:
    state = asyncio.run(idle.wait_idle(args.timeout, quiet=False))
    print(state.describe())
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="premiums", description="Premium payments for a state marketplace.")
    commands = root.add_subparsers(dest="command", required=True)
    stack_command.register(commands)
    clock.register(commands)
    wait = commands.add_parser("wait-idle", help="return once every consumer group has caught up")
    wait.add_argument("--timeout", type=float, default=120.0)
    wait.set_defaults(func=_wait_idle)
    token.register(commands)
    demo.register(commands)
    dlq.register(commands)
    manifests.register(commands)
    member.register(commands)
    topics.register(commands)
    audit.register(commands)
    docs.register(commands)
    bench.register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    for key, value in local_environment().items():
        os.environ.setdefault(key, value)
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except TimeoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
