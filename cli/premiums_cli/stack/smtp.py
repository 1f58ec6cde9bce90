"""The SMTP sink process (`premiums_cli.stack.smtp_sink`) as a stack component."""

from __future__ import annotations

import smtplib
import sys

from premiums_cli.stack import processes
from premiums_cli.stack.component import Component
from premiums_cli.stack.environment import smtp_address

SINK_MODULE = "premiums_cli.stack.smtp_sink"


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
        return SINK_MODULE

    def spawn(self) -> int:
        command = [
            sys.executable, "-m", SINK_MODULE,
            "--host", self.host, "--port", str(self.port), "--maildir", str(self.paths.mail),
        ]  # fmt: skip
        return processes.spawn_detached(command, log=self.log_file, cwd=self.paths.root)

    def answering(self) -> bool:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=2) as client:
                return client.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def describe(self) -> str:
        return f"smtp://{self.host}:{self.port} → {self.paths.mail}/new"
