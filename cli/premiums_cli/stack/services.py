"""The four premiums services, each `python -m premiums_<name>` with the local environment."""

from __future__ import annotations

import os
import sys

import httpx

from premiums_cli.stack import processes
from premiums_cli.stack.component import Component
from premiums_cli.stack.environment import local_environment
from premiums_cli.stack.errors import StackError
from premiums_cli.stack.paths import StackPaths

SERVICE_PORTS: dict[str, int] = {"payments": 8001, "autopay": 8002, "coverage": 8003, "notifications": 8004}


class Service(Component):
    kind = "service"
    ready_timeout = 90.0

    def __init__(self, paths: StackPaths, name: str) -> None:
        if name not in SERVICE_PORTS:
            raise StackError(f"unknown service {name!r}; expected one of {', '.join(SERVICE_PORTS)}")
        super().__init__(paths)
        self.name = name

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return SERVICE_PORTS[self.name]

    @property
    def module(self) -> str:
        return f"premiums_{self.name}"

    @property
    def marker(self) -> str:
        return f"-m {self.module}"

    def spawn(self) -> int:
        env = {**local_environment(), **os.environ}
        return processes.spawn_detached(
            [sys.executable, "-m", self.module], log=self.log_file, cwd=self.paths.root, env=env
        )

    def answering(self) -> bool:
        try:
            return httpx.get(f"http://{self.host}:{self.port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def describe(self) -> str:
        return f"http://{self.host}:{self.port}"
