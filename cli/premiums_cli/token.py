"""`premiums token`: mint a local bearer token with the stack's JWT secret."""

from __future__ import annotations

import argparse

from premiums_common.auth import mint_token

from premiums_cli.stack import local_environment


def token_for(subject: str, role: str, ttl_seconds: int = 8 * 3600) -> str:
    return mint_token(local_environment()["PREMIUMS_JWT_SECRET"], subject, role, ttl_seconds=ttl_seconds)  # type: ignore[arg-type]


def tokens_for(members: list[str], ttl_seconds: int = 8 * 3600) -> list[str]:
    """Member tokens for many members, reading the stack's secret once."""
    secret = local_environment()["PREMIUMS_JWT_SECRET"]
    return [mint_token(secret, member, "member", ttl_seconds=ttl_seconds) for member in members]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("token", help="print a bearer token for a member, staff or service")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", metavar="MEMBER_ID")
    who.add_argument("--staff", metavar="STAFF_ID")
    who.add_argument("--service", metavar="SERVICE_NAME")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.member:
        print(token_for(args.member, "member", args.ttl))
    elif args.staff:
        print(token_for(args.staff, "staff", args.ttl))
    else:
        print(token_for(args.service, "service", args.ttl))
    return 0
