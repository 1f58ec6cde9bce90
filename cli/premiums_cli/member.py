"""`premiums member show`: one member across the services, through their HTTP APIs with a staff token.

Enrollments and invoices (coverage), payments (payments), mandates (autopay), notices (notifications).
Account numbers never leave payments: only tokens and last four digits appear.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx

from premiums_cli.token import token_for

SERVICES = {
    "payments": "http://127.0.0.1:8001",
    "autopay": "http://127.0.0.1:8002",
    "coverage": "http://127.0.0.1:8003",
    "notifications": "http://127.0.0.1:8004",
}


async def _get(http: httpx.AsyncClient, url: str) -> Any:
    response = await http.get(url)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


async def member_view(member_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token_for('ops-cli', 'staff', 600)}"}
    async with httpx.AsyncClient(timeout=20, headers=headers) as http:
        enrollments = await _get(http, f"{SERVICES['coverage']}/v1/members/{member_id}/enrollments") or []
        for enrollment in enrollments:
            enrollment_id = enrollment["enrollment_id"]
            enrollment["invoices"] = await _get(http, f"{SERVICES['coverage']}/v1/enrollments/{enrollment_id}/invoices")
            enrollment["payments"] = await _get(
                http, f"{SERVICES['payments']}/v1/payments?enrollment_id={enrollment_id}"
            )
            enrollment["autopay"] = await _get(http, f"{SERVICES['autopay']}/v1/autopay?enrollment_id={enrollment_id}")
        notices = await _get(http, f"{SERVICES['notifications']}/v1/members/{member_id}/notifications") or []
    return {"member_id": member_id, "enrollments": enrollments, "notifications": notices}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("member", help="one member across the services")
    commands = parser.add_subparsers(dest="member_command", required=True)
    show = commands.add_parser("show", help="enrollments, invoices, payments, mandates and notices")
    show.add_argument("member_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)


def _show(args: argparse.Namespace) -> int:
    view = asyncio.run(member_view(args.member_id))
    if args.json:
        print(json.dumps(view, indent=2))
        return 0
    print(f"member {view['member_id']}")
    for e in view["enrollments"]:
        print(
            f"\n  {e['enrollment_id']}  {e.get('product')}  {e['status']}  paid through {e.get('paid_through')}  "
            f"balance ${e.get('balance')}"
        )
        for invoice in e.get("invoices") or []:
            print(f"    invoice {invoice['coverage_month']}  due {invoice['due_date']}  ${invoice['total_due']}")
        for payment in e.get("payments") or []:
            print(
                f"    payment {payment['confirmation_number']}  ${payment['amount']}  {payment['status']}  "
                f"****{payment.get('account_last4')}"
            )
        for mandate in e.get("autopay") or []:
            print(f"    autopay {mandate.get('mandate_id')}  {mandate.get('status')}")
    print("\n  notices:")
    for notice in view["notifications"]:
        print(f"    {notice['kind']:<4} {notice['status']:<8} {notice.get('subject') or ''}")
    return 0
