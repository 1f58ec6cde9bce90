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
MAX_REPLICAS = 8
REPLICA_PORT_STEP = 100  # replica 2 of autopay listens on 8102, replica 3 on 8202, …


class Service(Component):
    """One process of a service. Replica 1 is `payments` on 8001; replica n is `payments-n` on 8001 + 100(n-1):
    the same database and consumer group, so Kafka shares the partitions between them."""

    kind = "service"
    ready_timeout = 90.0

    def __init__(self, paths: StackPaths, name: str, replica: int = 1) -> None:
        if name not in SERVICE_PORTS:
            raise StackError(f"unknown service {name!r}; expected one of {', '.join(SERVICE_PORTS)}")
        if not 1 <= replica <= MAX_REPLICAS:
            raise StackError(f"a service runs as 1 to {MAX_REPLICAS} replicas on one machine, not {replica}")
        super().__init__(paths)
        self.service = name
        self.replica = replica
        self.name = name if replica == 1 else f"{name}-{replica}"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return SERVICE_PORTS[self.service] + REPLICA_PORT_STEP * (self.replica - 1)

    @property
    def module(self) -> str:
        return f"premiums_{self.service}"

    @property
    def marker(self) -> str:
        return f"-m {self.module}"

    def spawn(self) -> int:
        env = {**local_environment(), **os.environ}
        if self.replica > 1:
            env[f"{self.service.upper()}_HTTP_PORT"] = str(self.port)
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
