"""PostgreSQL (Debian's packages) with its data in `.local/postgres/data`, one database per service.

initdb and postgres refuse to run as root: under uid 0 they run as the system user `premiums-pg`.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from premiums_cli.stack import processes
from premiums_cli.stack.blocking import run_blocking
from premiums_cli.stack.component import Component
from premiums_cli.stack.environment import DATABASE_USER, SERVICE_DATABASES, postgres_address
from premiums_cli.stack.errors import StackError
from premiums_cli.stack.paths import StackPaths
from premiums_cli.stack.progress import Stopwatch, say

SYSTEM_USER = "premiums-pg"
DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_SETTINGS = (
    "max_connections=200",
    "fsync=on",
    # The four databases of a 100,000-member month come to about 1.4 GB; with 256 MB of buffers the backends
    # spent the month evicting dirty pages themselves (1.2 million writes) and reading them back.
    "shared_buffers=2GB",
    # Checkpoints every 15 minutes or 8 GB of WAL instead of 5 minutes or 1 GB: after a checkpoint the first
    # change to each page writes the whole page to the WAL, and inserts into indexes on random keys touch
    # pages all over; with the defaults, full-page images were about two thirds of a 100,000-member month's
    # 5.7 GB of WAL. The price is a longer crash recovery (replaying up to 8 GB), as on any write-heavy server.
    "max_wal_size=8GB",
    "checkpoint_timeout=15min",
    # A random page read costs about what a sequential one does: the working set is in shared buffers and the
    # disk is an SSD (PostgreSQL's documentation suggests 1.1 for that; the default 4.0 models spinning disks).
    # With 4.0 the planner joined a clearing batch's 500 payment ids to `payments_received` by scanning the
    # table and comparing every pending row with every id (Nested Loop, Join Filter: 848 ms a batch with 10,000
    # payments clearing, against 12 ms through the primary key), and activated enrollments by hashing the
    # whole table (19 ms against 7 ms): work that grows with the tables, not the batch.
    "random_page_cost=1.1",
)
STATEMENT_STATS = "pg_stat_statements"
"""Loaded when the server has it (Debian's server package does): which statements cost the most, for
`SELECT * FROM pg_stat_statements` in the `postgres` database (how the bench's hot statements were found)."""


def find_bin_dir() -> Path | None:
    """The newest `/usr/lib/postgresql/<version>/bin` holding pg_ctl, else the directory of pg_ctl on PATH."""
    versions = []
    if DEBIAN_ROOT.is_dir():
        for child in DEBIAN_ROOT.iterdir():
            if child.name.isdigit() and (child / "bin" / "pg_ctl").is_file():
                versions.append((int(child.name), child / "bin"))
    if versions:
        return max(versions)[1]
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def _install_postgres() -> Path:
    if os.geteuid() != 0:
        raise StackError(
            "postgres: no PostgreSQL server binaries were found (looked in /usr/lib/postgresql/*/bin, PATH). "
            "Install them, e.g. `sudo apt-get install -y postgresql` (Debian/Ubuntu), then run it again."
        )
    say("postgres", "no PostgreSQL binaries found; running apt-get install -y postgresql…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise StackError(f"postgres: `{' '.join(command)}` failed:\n{result.stderr.strip()[-2000:]}")
    found = find_bin_dir()
    if found is None:
        raise StackError("postgres: apt-get installed postgresql but no pg_ctl was found afterwards")
    return found


class Postgres(Component):
    name = "postgres"
    ready_timeout = 60.0

    def __init__(self, paths: StackPaths) -> None:
        super().__init__(paths)
        self._bin: Path | None = None

    @property
    def host(self) -> str:
        return postgres_address().host

    @property
    def port(self) -> int:
        return postgres_address().port

    @property
    def data_dir(self) -> Path:
        return self.paths.postgres / "data"

    @property
    def socket_dir(self) -> Path:
        return self.paths.postgres

    @property
    def has_statement_stats(self) -> bool:
        return (self.bin_dir.parent / "lib" / f"{STATEMENT_STATS}.so").is_file()

    @property
    def marker(self) -> str:
        return str(self.data_dir)

    @property
    def bin_dir(self) -> Path:
        if self._bin is None:
            self._bin = find_bin_dir() or _install_postgres()
        return self._bin

    # ---- running as root ---------------------------------------------------------------------
    @staticmethod
    def _as_root() -> bool:
        return os.geteuid() == 0

    def _ensure_system_user(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            pass
        say(self.name, f"running as root: creating system user {SYSTEM_USER}")
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            capture_output=True,
            text=True,
        )
        if result.returncode not in (0, 9):  # 9: already exists (a concurrent run)
            raise StackError(f"postgres: `useradd {SYSTEM_USER}` failed: {result.stderr.strip()}")
        return pwd.getpwnam(SYSTEM_USER)

    def _chown(self, path: Path, user: pwd.struct_passwd, recursive: bool = False) -> None:
        targets = [path]
        if recursive:
            targets += list(path.rglob("*"))
        for target in targets:
            if target.lstat().st_uid != user.pw_uid:
                os.lchown(target, user.pw_uid, user.pw_gid)

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / tool), *args]
        if self._as_root():
            return ["runuser", "-u", SYSTEM_USER, "--", *command]
        return command

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._command(tool, *args),
            capture_output=True,
            text=True,
            cwd=self.paths.postgres,
            timeout=timeout,
            check=False,
        )

    # ---- lifecycle ---------------------------------------------------------------------------
    def prepare(self) -> None:
        _ = self.bin_dir
        self.paths.postgres.mkdir(parents=True, exist_ok=True)
        log = self.log_file
        log.touch(exist_ok=True)
        if self._as_root():
            user = self._ensure_system_user()
            self._chown(self.paths.postgres, user)
            self._chown(log, user)
            if self.data_dir.exists() and self.data_dir.stat().st_uid != user.pw_uid:
                self._chown(self.data_dir, user, recursive=True)
        if not (self.data_dir / "PG_VERSION").is_file():
            watch = Stopwatch()
            say(self.name, f"initdb {self.data_dir}…")
            result = self._run("initdb", "-D", str(self.data_dir), "-U", DATABASE_USER, "--auth=trust", "-E", "UTF8")
            if result.returncode != 0:
                raise StackError(f"postgres: initdb failed:\n{(result.stderr or result.stdout).strip()[-3000:]}")
            say(self.name, f"initdb done in {watch}")

    def spawn(self) -> int:
        options = " ".join(
            [f"-p {self.port}", f"-k {self.socket_dir}", f"-c listen_addresses={self.host}"]
            + [f"-c {setting}" for setting in SERVER_SETTINGS]
            + ([f"-c shared_preload_libraries={STATEMENT_STATS}"] if self.has_statement_stats else [])
        )
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode != 0:
            raise StackError(
                f"postgres: pg_ctl start failed ({(result.stderr or result.stdout).strip()}). Last lines of "
                f"{self.log_file}:\n{processes.tail(self.log_file)}"
            )
        pid = self._postmaster_pid()
        if pid is None:
            raise StackError(f"postgres: started, but {self.data_dir}/postmaster.pid has no PID")
        return pid

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0].strip()
        except OSError:
            return None
        return int(first) if first.isdigit() else None

    def running_pid(self) -> int | None:
        pid = super().running_pid()
        if pid is not None:
            return pid
        # Our data directory's postmaster is ours even if the pid file was lost.
        postmaster = self._postmaster_pid()
        if postmaster is not None and self.pid_file.owns(postmaster):
            self.pid_file.write(postmaster)
            return postmaster
        return None

    def answering(self) -> bool:
        try:
            return run_blocking(asyncio.wait_for(self._select_one("postgres"), timeout=5))
        except Exception:
            return False

    async def _select_one(self, database: str) -> bool:
        import asyncpg

        connection = await asyncpg.connect(
            host=self.host, port=self.port, user=DATABASE_USER, database=database, timeout=3
        )
        try:
            return bool(await connection.fetchval("SELECT 1") == 1)
        finally:
            await connection.close()

    def provision(self) -> None:
        run_blocking(self._create_databases())

    async def _create_databases(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(
            host=self.host, port=self.port, user=DATABASE_USER, database="postgres", timeout=10
        )
        try:
            for database in SERVICE_DATABASES:
                if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                    continue
                try:
                    await connection.execute(f'CREATE DATABASE "{database}" OWNER "{DATABASE_USER}"')
                    say(self.name, f"created database {database}")
                except asyncpg.DuplicateDatabaseError:
                    pass
            if self.has_statement_stats:
                await connection.execute(f"CREATE EXTENSION IF NOT EXISTS {STATEMENT_STATS}")
        finally:
            await connection.close()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> bool:
        """SIGTERM means `pg_ctl stop -m fast`; any other signal goes to the postmaster as is."""
        pid = self.running_pid()
        if pid is None:
            return False
        if sig != signal.SIGTERM:
            return super().stop(sig)
        watch = Stopwatch()
        say(self.name, f"stopping pid {pid} (pg_ctl stop -m fast)…")
        result = self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "20", "stop", timeout=40)
        if result.returncode != 0 and processes.process_alive(pid):
            say(self.name, f"pg_ctl stop failed ({result.stderr.strip()}); sending SIGTERM/SIGKILL")
            processes.terminate(pid)
        processes.wait_exit(pid, 5)
        self._wait_ports_released()
        self.pid_file.remove()
        say(self.name, f"stopped in {watch}")
        return True

    def describe(self) -> str:
        return f"postgresql://{DATABASE_USER}@{self.host}:{self.port}/<{'|'.join(SERVICE_DATABASES)}>"
