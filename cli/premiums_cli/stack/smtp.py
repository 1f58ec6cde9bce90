"""The SMTP sink as a stack component: the Go sink (`deploy/smtp-sink`, built into `.local/bin`) when Go is
installed, else the Python one (`premiums_cli.stack.smtp_sink`). Both store messages the same way.

`PREMIUMS_SMTP_SINK=python` forces the Python sink; `PREMIUMS_SMTP_SINK=go` fails rather than fall back.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from premiums_cli.stack import processes
from premiums_cli.stack.component import Component
from premiums_cli.stack.environment import smtp_address
from premiums_cli.stack.errors import StackError
from premiums_cli.stack.paths import StackPaths
from premiums_cli.stack.progress import say

SINK_MODULE = "premiums_cli.stack.smtp_sink"
NATIVE_NAME = "premiums-smtp-sink"
CHOICE_VARIABLE = "PREMIUMS_SMTP_SINK"
BUILD_TIMEOUT = 300.0


def native_source(paths: StackPaths) -> Path:
    return paths.root / "deploy" / "smtp-sink"


def native_binary(paths: StackPaths) -> Path:
    return paths.local / "bin" / NATIVE_NAME


def native_stale(paths: StackPaths) -> bool:
    """True when the binary is missing or older than its source (`main.go`, `go.mod`)."""
    try:
        built = native_binary(paths).stat().st_mtime
    except OSError:
        return True
    sources = [native_source(paths) / name for name in ("main.go", "go.mod")]
    return any(source.exists() and source.stat().st_mtime > built for source in sources)


def build_native(paths: StackPaths, announce: Callable[[], None] = lambda: None) -> str | None:
    """Build the Go sink into `.local/bin`; None when done, else why it could not be."""
    go = shutil.which("go")
    if go is None:
        return "Go is not installed"
    announce()
    binary = native_binary(paths)
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")  # never overwrite a running binary in place
    # Standard library only: never download a toolchain or a module; ignore the caller's GOFLAGS.
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": ""}
    command = [go, "build", "-trimpath", "-buildvcs=false", "-o", str(partial), "."]
    try:
        result = subprocess.run(
            command, cwd=native_source(paths), env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT
        )
    except (OSError, subprocess.SubprocessError) as exc:
        partial.unlink(missing_ok=True)
        return f"`go build` failed: {exc}"
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        return f"`go build` failed: {(result.stderr or result.stdout).strip()[-2000:]}"
    partial.replace(binary)
    return None


class _EitherSinkPidFile(processes.PidFile):
    """The recorded PID is ours when it runs either sink (one may have been started before a switch)."""

    def owns(self, pid: int) -> bool:
        command = processes.command_line(pid)
        return processes.process_alive(pid) and (SINK_MODULE in command or NATIVE_NAME in command)


class SmtpSink(Component):
    name = "smtp"
    ready_timeout = 20.0

    @property
    def host(self) -> str:
        return smtp_address().host

    @property
    def port(self) -> int:
        return smtp_address().port

    @property
    def marker(self) -> str:
        return SINK_MODULE  # or NATIVE_NAME: see pid_file

    @property
    def pid_file(self) -> processes.PidFile:
        return _EitherSinkPidFile(self.paths.pid_file(self.name), self.marker)

    def prepare(self) -> None:
        """Build the Go sink when it is missing or older than its source (a few seconds, then cached)."""
        choice = os.environ.get(CHOICE_VARIABLE, "").strip().lower()
        if choice == "python" or not native_stale(self.paths):
            return
        problem = build_native(self.paths, announce=lambda: say(self.name, "building the Go SMTP sink…"))
        if problem is None:
            return
        if choice == "go":
            raise StackError(f"smtp: {CHOICE_VARIABLE}=go but the Go sink cannot be built: {problem}")
        say(self.name, f"{problem}; the Python SMTP sink will be used")

    def command(self) -> list[str]:
        """The Go sink when it is built and current (and not turned off), else the Python one."""
        choice = os.environ.get(CHOICE_VARIABLE, "").strip().lower()
        arguments = ["--host", self.host, "--port", str(self.port), "--maildir", str(self.paths.mail)]
        if choice != "python" and not native_stale(self.paths):
            return [str(native_binary(self.paths)), *arguments]
        if choice == "go":
            raise StackError(f"smtp: {CHOICE_VARIABLE}=go but {native_binary(self.paths)} is missing or stale")
        return [sys.executable, "-m", SINK_MODULE, *arguments]

    def spawn(self) -> int:
        return processes.spawn_detached(self.command(), log=self.log_file, cwd=self.paths.root)

    def answering(self) -> bool:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=2) as client:
                return client.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def describe(self) -> str:
        pid = self.running_pid()
        kind = ""
        if pid is not None:
            kind = ", Go" if NATIVE_NAME in processes.command_line(pid) else ", Python"
        return f"smtp://{self.host}:{self.port} → {self.paths.mail}/new{kind}"
