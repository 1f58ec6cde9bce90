"""Processes the stack starts: detached spawning, pid files, liveness, signals, ports and log tails.

Only PIDs recorded in `.local/run/*.pid` are ever signalled, and only after checking that the process
command line still carries the component's marker (a recycled PID is never hit).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# Keep Popen objects so exited children can be reaped (no zombie looks alive).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn_detached(argv: Sequence[str], *, log: Path, cwd: Path, env: Mapping[str, str] | None = None) -> int:
    """Start `argv` in a new session, stdin from /dev/null, stdout+stderr appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        out.flush()
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[process.pid] = process
    return process.pid


def _reap(pid: int) -> bool:
    """True when `pid` was our child and has exited (now reaped)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return False
        del _CHILDREN[pid]
        return True
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return reaped == pid


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def process_alive(pid: int) -> bool:
    if pid <= 0 or _reap(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _proc_state(pid) not in (None, "Z", "X")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class PidFile:
    """`.local/run/<component>.pid`: the PID on the first line."""

    def __init__(self, path: Path, marker: str) -> None:
        self.path = path
        self.marker = marker

    def read(self) -> int | None:
        try:
            first = self.path.read_text().split()[0]
        except (OSError, IndexError):
            return None
        return int(first) if first.isdigit() else None

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".pid.tmp")
        tmp.write_text(f"{pid}\n")
        tmp.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def owns(self, pid: int) -> bool:
        return process_alive(pid) and self.marker in command_line(pid)

    def live_pid(self) -> int | None:
        """The recorded PID if that process still runs (and is ours); a stale file is removed."""
        pid = self.read()
        if pid is None:
            if self.path.exists():
                self.remove()
            return None
        if self.owns(pid):
            return pid
        self.remove()
        return None


def send_signal(pid: int, sig: signal.Signals) -> None:
    """Signal the process (and its process group when it leads one: the stack starts each in a session)."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.1)
    return not process_alive(pid)


def terminate(pid: int, sig: signal.Signals = signal.SIGTERM, grace: float = 20.0) -> None:
    """Send `sig`; if the process outlives `grace` seconds, SIGKILL it."""
    if not process_alive(pid):
        return
    send_signal(pid, sig)
    if sig == signal.SIGKILL or wait_exit(pid, grace):
        wait_exit(pid, 5.0)
        return
    send_signal(pid, signal.SIGKILL)
    wait_exit(pid, 5.0)


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (bind test with SO_REUSEADDR, so TIME_WAIT does not count)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_owner(port: int) -> str:
    """Best effort: `pid 123 (java …)` of the process listening on `port`, or ''."""
    if shutil.which("ss") is None:
        return ""
    try:
        out = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"pid=(\d+)", out)
    if not match:
        return ""
    pid = int(match.group(1))
    return f"pid {pid} ({' '.join(command_line(pid).split())[:120]})"


def tail(path: Path, lines: int = 30) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(content[-lines:])
