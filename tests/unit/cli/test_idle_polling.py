"""`wait-idle`'s polling: quick while a wait is short or the system looks idle, slower through a long busy wait."""

from __future__ import annotations

from premiums_cli.idle import LONG_INTERVAL, LONG_WAIT, _next_poll


def test_a_short_wait_polls_at_the_interval() -> None:
    assert _next_poll(0.25, waited=LONG_WAIT - 0.1, calm=0) == 0.25


def test_a_long_busy_wait_polls_less_often() -> None:
    assert _next_poll(0.25, waited=LONG_WAIT + 1, calm=0) == LONG_INTERVAL


def test_a_long_wait_that_looks_idle_confirms_at_the_interval() -> None:
    """Idle must be seen twice in a row: the second look comes quickly, so a long wait ends at most one slow
    poll after the system went idle."""
    assert _next_poll(0.25, waited=600, calm=1) == 0.25


def test_an_interval_longer_than_the_long_one_is_kept() -> None:
    assert _next_poll(2.0, waited=600, calm=0) == 2.0
