"""`premiums clock`: the business clock (ARCHITECTURE §4). Every date is published on `clock.events`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, datetime, timedelta

from premiums_common.outbox import Outgoing
from premiums_common.timezone import NEW_YORK
from premiums_contracts import Envelope
from premiums_contracts.events import BusinessDateAdvanced
from premiums_contracts.topics import CLOCK_EVENTS

from premiums_cli import idle
from premiums_cli.kafka_io import producer, publish, read_all

SOURCE = "/premiums/clock"


async def current_date() -> date | None:
    records = await read_all(CLOCK_EVENTS.name, last=1)
    if not records:
        return None
    return BusinessDateAdvanced.model_validate_json(records[-1].value).business_date


def _event(day: date, previous: date | None) -> Outgoing:
    event = BusinessDateAdvanced(business_date=day, previous_date=previous)
    return Outgoing(event, Envelope(type=event.ce_type(), source=SOURCE, subject="clock"))


async def publish_dates(days: list[date], previous: date | None) -> None:
    async with producer() as client:
        for day in days:
            await publish(client, [_event(day, previous)])
            previous = day


async def set_date(day: date) -> None:
    await publish_dates([day], await current_date())


async def advance(*, days: int | None = None, to: date | None = None) -> date:
    """Publish one event per day, in order, up to the target date."""
    start = await current_date() or datetime.now(NEW_YORK).date()
    target = to if to is not None else start + timedelta(days=days or 0)
    if target <= start:
        return start
    dates = [start + timedelta(days=i) for i in range(1, (target - start).days + 1)]
    await publish_dates(dates, start)
    return target


async def tick() -> date:
    """Wall-clock mode (a CronJob just after midnight): publish today's New York date once."""
    today = datetime.now(NEW_YORK).date()
    current = await current_date()
    if current is None or today > current:
        await publish_dates([today], current)
    return today


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("clock", help="show or move the business date")
    commands = parser.add_subparsers(dest="clock_command", required=True)
    show = commands.add_parser("show", help="print the current business date")
    show.set_defaults(func=_show)
    set_ = commands.add_parser("set", help="publish a business date")
    set_.add_argument("date", type=date.fromisoformat)
    adv = commands.add_parser("advance", help="move forward, one BusinessDateAdvanced per day")
    group = adv.add_mutually_exclusive_group(required=True)
    group.add_argument("--days", type=int)
    group.add_argument("--to", type=date.fromisoformat)
    tick_ = commands.add_parser("tick", help="publish today's New York date if it is new (wall clock)")
    for sub, func in ((set_, _set), (adv, _advance), (tick_, _tick)):
        sub.add_argument("--wait", action="store_true", help="return once every consumer has caught up")
        sub.set_defaults(func=func)
    show.add_argument("--wait", action="store_true", help=argparse.SUPPRESS)


def _finish(args: argparse.Namespace, day: date | None) -> int:
    if getattr(args, "wait", False):
        asyncio.run(idle.wait_idle())
    print(day.isoformat() if day else "no business date published yet")
    return 0


def _show(args: argparse.Namespace) -> int:
    return _finish(args, asyncio.run(current_date()))


def _set(args: argparse.Namespace) -> int:
    asyncio.run(set_date(args.date))
    return _finish(args, args.date)


def _advance(args: argparse.Namespace) -> int:
    return _finish(args, asyncio.run(advance(days=args.days, to=args.to)))


def _tick(args: argparse.Namespace) -> int:
    return _finish(args, asyncio.run(tick()))
