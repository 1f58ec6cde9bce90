"""PostgreSQL: the connection pool and the SQL migrations each service ships in its `migrations/` folder."""

from __future__ import annotations

import logging
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)

MIGRATION_LOCK = 7_700_001

RUNTIME_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pool connection that goes back without asyncpg's reset statement.

    asyncpg sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;` on every release: one
    more round trip per transaction. Our pooled work leaves no session state behind: locks are transaction
    locks (`pg_advisory_xact_lock`), LISTEN and the relay's session lock live on dedicated connections, and
    the migration lock is released explicitly. An open transaction is still always rolled back on release.
    """

    def get_reset_query(self) -> str:
        return ""


# Short, indexed statements only: PostgreSQL's JIT compiler, which it starts for any plan it costs high (a
# page of accounts on a freshly loaded table, before autovacuum has analysed it), spent ~0.5 s compiling to
# save nothing: with it, the 100,000-account delinquency day took 50 pages x 0.5 s (bench/daily_memory.py).
SESSION_SETTINGS = {"jit": "off"}


async def custom_plans(con: asyncpg.Connection) -> None:
    """For the rest of `con`'s transaction, plan each statement for its own parameters.

    A prepared statement run more than five times may switch to PostgreSQL's generic plan, which cannot see
    a keyset page's bounds: for a long day of pages that plan can scan what one page's plan finds by index.
    """
    await con.execute("SET LOCAL plan_cache_mode = force_custom_plan")


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=60,
        connection_class=PooledConnection,
        server_settings=SESSION_SETTINGS,
    )
    assert pool is not None
    return pool


async def migrate(pool: asyncpg.Pool, *packages: str) -> list[str]:
    """Apply, in name order, every `*.sql` file of each package's `migrations` folder not applied yet.

    An advisory lock serialises replicas starting together, so each file runs exactly once.
    """
    applied: list[str] = []
    async with pool.acquire() as con:
        await con.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await con.execute(RUNTIME_SCHEMA)
            done = {r["name"] for r in await con.fetch("SELECT name FROM schema_migrations")}
            for package in packages:
                folder = resources.files(package).joinpath("migrations")
                for entry in sorted(folder.iterdir(), key=lambda e: e.name):
                    name = f"{package}:{entry.name}"
                    if not entry.name.endswith(".sql") or name in done:
                        continue
                    async with con.transaction():
                        await con.execute(entry.read_text())
                        await con.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                    applied.append(name)
                    log.info("migration applied", extra={"migration": name})
        finally:
            await con.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied
