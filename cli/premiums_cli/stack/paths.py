"""Where the project lives and where the local stack keeps its state (`<root>/.local/`, git-ignored)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from premiums_cli.stack.errors import StackError

_MARKER = Path("deploy") / "kafka" / "pom.xml"


def project_root() -> Path:
    """The directory holding `deploy/kafka/pom.xml` (`PREMIUMS_HOME` overrides the search)."""
    override = os.environ.get("PREMIUMS_HOME")
    if override:
        root = Path(override).expanduser().resolve()
        if not (root / _MARKER).is_file():
            raise StackError(f"PREMIUMS_HOME={override} does not hold {_MARKER}")
        return root
    for candidate in Path(__file__).resolve().parents:
        if (candidate / _MARKER).is_file():
            return candidate
    raise StackError(f"cannot find the project root (a directory holding {_MARKER}); set PREMIUMS_HOME")


@dataclass(frozen=True)
class StackPaths:
    root: Path

    @classmethod
    def discover(cls) -> StackPaths:
        return cls(project_root())

    @property
    def local(self) -> Path:
        return self.root / ".local"

    @property
    def run(self) -> Path:
        """Pid files and logs of every process the stack started."""
        return self.local / "run"

    @property
    def kafka(self) -> Path:
        return self.local / "kafka"

    @property
    def postgres(self) -> Path:
        return self.local / "postgres"

    @property
    def mail(self) -> Path:
        return self.local / "mail"

    @property
    def secrets(self) -> Path:
        return self.local / "secrets.env"

    @property
    def kafka_deploy(self) -> Path:
        return self.root / "deploy" / "kafka"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.run / f"{component}.log"

    def ensure(self) -> None:
        for directory in (self.local, self.run, self.kafka, self.postgres, self.mail):
            directory.mkdir(parents=True, exist_ok=True)
