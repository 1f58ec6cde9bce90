"""What every part of the stack can do: start, wait until ready, check, stop, report."""

from __future__ import annotations

import signal
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from premiums_cli.stack import processes
from premiums_cli.stack.errors import StackError
from premiums_cli.stack.paths import StackPaths
from premiums_cli.stack.progress import Stopwatch, say


class Component(ABC):
    """A process of the local stack, tracked by `.local/run/<name>.pid`."""

    name: str
    kind: str = "infra"
    ready_timeout: float = 60.0

    def __init__(self, paths: StackPaths) -> None:
        self.paths = paths

    # ---- identity -------------------------------------------------------------------------------
    @property
    @abstractmethod
    def host(self) -> str: ...

    @property
    @abstractmethod
    def port(self) -> int: ...

    @property
    def ports(self) -> tuple[int, ...]:
        """Every port the process listens on (checked before starting)."""
        return (self.port,)

    @property
    @abstractmethod
    def marker(self) -> str:
        """A string found in the process command line (guards against a recycled PID)."""

    @property
    def pid_file(self) -> processes.PidFile:
        return processes.PidFile(self.paths.pid_file(self.name), self.marker)

    @property
    def log_file(self) -> Path:
        return self.paths.log_file(self.name)

    # ---- the parts each component provides -------------------------------------------------------
    def prepare(self) -> None:  # noqa: B027 - optional hook, most components need none
        """Checks and one-time setup before the first start (build, format, initdb). Blocking."""

    @abstractmethod
    def spawn(self) -> int:
        """Start the process; return its PID (the one to record and later signal)."""

    @abstractmethod
    def answering(self) -> bool:
        """One quick health probe: does the running process answer?"""

    def provision(self) -> None:  # noqa: B027 - optional hook
        """Idempotent setup once it answers (topics, databases)."""

    def describe(self) -> str:
        return f"{self.host}:{self.port}"

    # ---- lifecycle -------------------------------------------------------------------------------
    def running_pid(self) -> int | None:
        return self.pid_file.live_pid()

    def ensure_running(self) -> int:
        """Reuse a live, answering process; otherwise start one. Blocks until ready; returns the PID."""
        watch = Stopwatch()
        pid = self.running_pid()
        if pid is not None:
            if self.answering():
                self.provision()
                say(self.name, f"already running (pid {pid}, {self.describe()}), reused")
                return pid
            say(self.name, f"pid {pid} runs but does not answer yet; waiting…")
            self._wait_ready(pid, watch)
            self.provision()
            say(self.name, f"ready in {watch} (pid {pid})")
            return pid
        self._check_ports_free()
        self.prepare()
        say(self.name, "starting…")
        pid = self.spawn()
        self.pid_file.write(pid)
        self._wait_ready(pid, watch)
        self.provision()
        say(self.name, f"ready in {watch} (pid {pid}, {self.describe()})")
        return pid

    def _check_ports_free(self) -> None:
        for port in self.ports:
            if not processes.port_free(self.host, port):
                owner = processes.port_owner(port)
                raise StackError(
                    f"{self.name}: port {self.host}:{port} is already in use by a process the stack did not "
                    f"start{': ' + owner if owner else ''}. Stop it, or choose another port "
                    f"(see `premiums stack status`)."
                )

    def _wait_ready(self, pid: int, watch: Stopwatch) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if not processes.process_alive(pid):
                self.pid_file.remove()
                raise StackError(
                    f"{self.name}: the process (pid {pid}) exited during startup. Last lines of "
                    f"{self.log_file}:\n{processes.tail(self.log_file)}"
                )
            if self.answering():
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.name}: not ready after {watch} (pid {pid} still running; left as is). Last lines "
                    f"of {self.log_file}:\n{processes.tail(self.log_file)}"
                )
            time.sleep(0.25)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> bool:
        """Stop the recorded process (SIGTERM, 20 s grace, then SIGKILL). False when nothing ran."""
        pid = self.running_pid()
        if pid is None:
            return False
        watch = Stopwatch()
        say(self.name, f"stopping pid {pid} ({sig.name})…")
        processes.terminate(pid, sig)
        self._wait_ports_released()
        self.pid_file.remove()
        say(self.name, f"stopped in {watch}")
        return True

    def _wait_ports_released(self, timeout: float = 5.0) -> None:
        """A killed multi-threaded process turns zombie a moment before its threads close its sockets."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(processes.port_free(self.host, port) for port in self.ports):
                return
            time.sleep(0.05)

    def status(self) -> dict[str, Any]:
        pid = self.running_pid()
        if pid is not None:
            state = "running" if self.answering() else "unresponsive"
        elif not all(processes.port_free(self.host, port) for port in self.ports):
            state = "port-taken"
        else:
            state = "stopped"
        return {
            "component": self.name,
            "kind": self.kind,
            "state": state,
            "pid": pid,
            "host": self.host,
            "port": self.port,
            "rss_bytes": processes.rss_bytes(pid) if pid else None,
            "log": str(self.log_file),
        }
