"""The local stack, started by the project itself: Kafka (KRaft), PostgreSQL, an SMTP sink, the services.

from premiums_cli import stack
stack.up(infra_only=True)      # blocks until ready; raises stack.StackError with a plain message
stack.status()                 # [{"component": "kafka", "state": "running", "pid": 123, "port": 9092, …}]
stack.scale("autopay", 2)      # a second autopay process in the same consumer group
stack.down()                   # stops exactly the processes it started
"""

from premiums_cli.stack.environment import local_environment
from premiums_cli.stack.errors import StackError
from premiums_cli.stack.lifecycle import (
    down,
    running_pids,
    scale,
    start_infrastructure,
    start_service,
    status,
    stop_infrastructure,
    stop_service,
    up,
)
from premiums_cli.stack.paths import project_root

__all__ = [
    "StackError",
    "down",
    "local_environment",
    "project_root",
    "running_pids",
    "scale",
    "start_infrastructure",
    "start_service",
    "status",
    "stop_infrastructure",
    "stop_service",
    "up",
]
