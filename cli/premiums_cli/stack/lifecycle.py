"""`up`, `down`, `status` of the whole local stack, and one service at a time (for fault tests)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from premiums_cli.stack.component import Component
from premiums_cli.stack.environment import local_environment
from premiums_cli.stack.errors import StackError
from premiums_cli.stack.kafka import Kafka
from premiums_cli.stack.paths import StackPaths
from premiums_cli.stack.postgres import Postgres
from premiums_cli.stack.progress import Stopwatch, say
from premiums_cli.stack.services import MAX_REPLICAS, SERVICE_PORTS, Service
from premiums_cli.stack.smtp import SmtpSink

T = TypeVar("T")


def infrastructure(paths: StackPaths) -> list[Component]:
    return [Postgres(paths), Kafka(paths), SmtpSink(paths)]


def services(paths: StackPaths) -> list[Component]:
    return [Service(paths, name) for name in SERVICE_PORTS]


def extra_replicas(paths: StackPaths, *, running_only: bool = True) -> list[Component]:
    """Replicas 2 and up that `scale` started (and that still run, unless `running_only` is False)."""
    extra = [Service(paths, name, n) for name in SERVICE_PORTS for n in range(2, MAX_REPLICAS + 1)]
    return [c for c in extra if not running_only or c.running_pid() is not None]


@contextlib.contextmanager
def _stack_lock(paths: StackPaths) -> Iterator[None]:
    """One `up`/`down` at a time per project (pytest workers, two terminals)."""
    paths.ensure()
    with (paths.run / "stack.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _each(components: Sequence[Component], action: Callable[[Component], T]) -> list[T]:
    """Run `action` on every component concurrently; raise one StackError naming every failure."""
    if not components:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(components)) as pool:
        futures = [pool.submit(action, component) for component in components]
        concurrent.futures.wait(futures)
    errors = []
    for component, future in zip(components, futures, strict=True):
        error = future.exception()
        if isinstance(error, StackError):
            errors.append(str(error))
        elif error is not None:
            errors.append(f"{component.name}: {type(error).__name__}: {error}")
    if errors:
        raise StackError("\n".join(errors))
    return [future.result() for future in futures]


def up(infra_only: bool = False) -> None:
    """Start (or reuse) Kafka, PostgreSQL and the SMTP sink, then the four services; block until ready."""
    paths = StackPaths.discover()
    watch = Stopwatch()
    with _stack_lock(paths):
        local_environment()  # creates .local/secrets.env once, before anything starts
        _each(infrastructure(paths), lambda component: component.ensure_running())
        if not infra_only:
            _each(services(paths), lambda component: component.ensure_running())
    say("stack", f"up in {watch}{' (infrastructure only)' if infra_only else ''}")


def down() -> None:
    """Stop exactly what the stack started (PIDs in `.local/run/*.pid`): services, SMTP, Kafka, PostgreSQL."""
    paths = StackPaths.discover()
    with _stack_lock(paths):
        _each([*extra_replicas(paths), *services(paths)], lambda component: component.stop())
        for component in reversed(infrastructure(paths)):
            component.stop()


def status() -> list[dict[str, Any]]:
    """One entry per component: name, kind, state (running|unresponsive|stopped|port-taken), pid, port…"""
    paths = StackPaths.discover()
    return _each(
        [*infrastructure(paths), *services(paths), *extra_replicas(paths)], lambda component: component.status()
    )


def running_pids() -> dict[str, int]:
    """Each live component's PID from its pid file, without asking it anything (status() probes each one)."""
    paths = StackPaths.discover()
    components = [*infrastructure(paths), *services(paths), *extra_replicas(paths)]
    return {c.name: pid for c in components if (pid := c.running_pid()) is not None}


def start_service(name: str) -> int:
    """Start one service (if not already running and ready); returns its PID."""
    return Service(StackPaths.discover(), name).ensure_running()


def stop_service(name: str, sig: signal.Signals = signal.SIGTERM) -> bool:
    """Stop one service with `sig` (SIGKILL for a crash test); False when it was not running."""
    return Service(StackPaths.discover(), name).stop(sig)


def scale(name: str, replicas: int) -> list[int]:
    """Run exactly `replicas` processes of service `name` (starting or stopping replicas 2 and up);
    returns the PIDs of the running ones. They share the database and the consumer group."""
    paths = StackPaths.discover()
    wanted = [Service(paths, name, n) for n in range(1, replicas + 1)]
    surplus = [Service(paths, name, n) for n in range(replicas + 1, MAX_REPLICAS + 1)]
    with _stack_lock(paths):
        _each([c for c in surplus if c.running_pid() is not None], lambda component: component.stop())
        return _each(wanted, lambda component: component.ensure_running())


def stop_infrastructure(name: str) -> bool:
    """Stop Kafka, PostgreSQL or the SMTP sink alone (fault tests: the services keep running)."""
    return _infrastructure_part(name).stop()


def start_infrastructure(name: str) -> int:
    """Start Kafka, PostgreSQL or the SMTP sink again, with the data it had; blocks until ready."""
    return _infrastructure_part(name).ensure_running()


def _infrastructure_part(name: str) -> Component:
    parts = {component.name: component for component in infrastructure(StackPaths.discover())}
    if name not in parts:
        raise StackError(f"unknown part {name!r}; expected one of {', '.join(parts)}")
    return parts[name]
