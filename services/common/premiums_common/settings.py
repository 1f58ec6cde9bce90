"""Settings from the environment (ARCHITECTURE §8); one frozen object per process."""

from __future__ import annotations

import os
from dataclasses import dataclass

SERVICE_PORTS = {"payments": 8001, "autopay": 8002, "coverage": 8003, "notifications": 8004}


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    service: str
    kafka_bootstrap_servers: str
    database_url: str
    http_host: str
    http_port: int
    clock_mode: str
    jwt_secret: str
    data_key: str | None
    smtp_host: str
    smtp_port: int
    maildir: str | None
    log_level: str
    max_body_bytes: int = 64 * 1024
    rate_limit_member_per_minute: int = 300
    rate_limit_anonymous_per_minute: int = 120
    smtp_connections: int = 8
    render_workers: int = 0

    @classmethod
    def from_env(cls, service: str) -> Settings:
        env = os.environ
        url_name = f"{service.upper()}_DATABASE_URL"
        database_url = env.get(url_name)
        if not database_url:
            raise SettingsError(f"{url_name} is not set: the {service} service needs its own PostgreSQL database")
        clock_mode = env.get("PREMIUMS_CLOCK", "wall")
        if clock_mode not in ("wall", "simulated"):
            raise SettingsError(f"PREMIUMS_CLOCK must be 'wall' or 'simulated', not {clock_mode!r}")
        jwt_secret = env.get("PREMIUMS_JWT_SECRET")
        if not jwt_secret:
            raise SettingsError("PREMIUMS_JWT_SECRET is not set: bearer tokens cannot be verified without it")
        return cls(
            service=service,
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            database_url=database_url,
            http_host=env.get(f"{service.upper()}_HTTP_HOST", "127.0.0.1"),
            http_port=int(env.get(f"{service.upper()}_HTTP_PORT", SERVICE_PORTS[service])),
            clock_mode=clock_mode,
            jwt_secret=jwt_secret,
            data_key=env.get("PREMIUMS_DATA_KEY"),
            smtp_host=env.get("SMTP_HOST", "127.0.0.1"),
            smtp_port=int(env.get("SMTP_PORT", "1025")),
            maildir=env.get("PREMIUMS_MAILDIR"),
            log_level=env.get("PREMIUMS_LOG_LEVEL", "INFO"),
            max_body_bytes=_positive(env, "PREMIUMS_MAX_BODY_BYTES", 64 * 1024),
            rate_limit_member_per_minute=_positive(env, "PREMIUMS_RATE_LIMIT_MEMBER_PER_MINUTE", 300),
            rate_limit_anonymous_per_minute=_positive(env, "PREMIUMS_RATE_LIMIT_ANONYMOUS_PER_MINUTE", 120),
            smtp_connections=_positive(env, "PREMIUMS_SMTP_CONNECTIONS", 8),
            render_workers=_whole(env, "PREMIUMS_RENDER_WORKERS", 1),
        )


def _whole(env: os._Environ[str], name: str, default: int) -> int:
    return _number(env, name, default, minimum=0)


def _positive(env: os._Environ[str], name: str, default: int) -> int:
    return _number(env, name, default, minimum=1)


def _number(env: os._Environ[str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        kind = "a positive whole number" if minimum else "a whole number (0 or more)"
        raise SettingsError(f"{name} must be {kind}, not {raw!r}")
    return int(raw)
