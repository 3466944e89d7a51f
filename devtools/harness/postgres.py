"""A private PostgreSQL cluster (Debian's ``postgresql``) on a loopback port, for Mistral.

Usage::

    pg = PostgresServer()              # files under a fresh temp dir owned by user postgres
    pg.start()                         # initdb on first start; ~2 s
    url = pg.create_database("mistral")   # postgresql+psycopg2://postgres@127.0.0.1:PORT/mistral
    pg.restart()                       # fast shutdown and start on the same data
    pg.stop(); pg.wipe()

``initdb`` and ``postgres`` refuse to run as root, so both run under ``runuser -u postgres``
in a directory that user owns (a pytest tmp_path under /tmp/pytest-of-root is not reachable
by it: the parent is mode 700).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from harness.process import (
    ComponentError,
    free_port,
    kill_process,
    spawn,
    stop_process,
    tail,
    wait_until,
)

USER = "postgres"


def _bindir() -> Path:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/<v>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise ComponentError("PostgreSQL is not installed (make deps installs it)")
    return Path(found[-1]).parent


class PostgresServer:
    """One PostgreSQL cluster, trust authentication on loopback only."""

    def __init__(self, max_connections: int = 300) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="host-recovery-pg-"))
        self.data = self.workdir / "data"
        self.sockets = self.workdir / "sockets"
        self.log = self.workdir / "postgres.log"
        self.port = free_port()
        self.max_connections = max_connections
        self._proc: subprocess.Popen[bytes] | None = None
        self._bin = _bindir()
        pw = pwd.getpwnam(USER)
        for path in (self.workdir, self.sockets):
            path.mkdir(exist_ok=True)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` (psycopg2 over TCP on loopback)."""
        return f"postgresql+psycopg2://{USER}@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        """initdb (first time only), then start the server and wait until it accepts."""
        if not (self.data / "PG_VERSION").exists():
            self._as_postgres([str(self._bin / "initdb"), "-D", str(self.data), "-U", USER,
                               "--auth=trust", "-E", "UTF8", "--no-sync"])
        # fsync off: a test machine never loses power; a postgres restart keeps every
        # committed row either way (what the fault tests exercise).
        self._proc = spawn(
            ["runuser", "-u", USER, "--", str(self._bin / "postgres"), "-D", str(self.data),
             "-p", str(self.port), "-h", "127.0.0.1", "-k", str(self.sockets),
             "-c", f"max_connections={self.max_connections}", "-c", "fsync=off",
             "-c", "full_page_writes=off", "-c", "shared_buffers=32MB"],
            self.log, cwd=self.workdir)
        try:
            wait_until(self._ready, timeout, f"PostgreSQL on port {self.port}", interval=0.2,
                       alive=lambda: self.running)
        except ComponentError as exc:
            raise ComponentError(f"{exc}\n{tail(self.log)}") from exc

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected, nothing waits for them)."""
        stop_process(self._proc, timeout=30.0, sig=signal.SIGINT)
        self._proc = None

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (crash; recovery replays the WAL)."""
        kill_process(self._proc)
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def wipe(self) -> None:
        """Remove every file (only while stopped)."""
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- databases --------------------------------------------------------------------------
    def create_database(self, name: str) -> str:
        """Create ``name`` (if absent) and return its SQLAlchemy URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):  # an identifier, never quoted input
            raise ValueError(f"database name {name!r}")
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if exists.strip() != "1":
            self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL statement; its unaligned output."""
        return self._as_postgres([str(self._bin / "psql"), "-X", "-q", "-A", "-t",
                                  "-h", str(self.sockets), "-p", str(self.port),
                                  "-d", database, "-c", sql])

    # -- internals --------------------------------------------------------------------------
    def _ready(self) -> bool:
        done = subprocess.run([str(self._bin / "pg_isready"), "-q", "-h", "127.0.0.1",
                               "-p", str(self.port)], check=False, timeout=10)
        return done.returncode == 0

    def _as_postgres(self, argv: list[str]) -> str:
        done = subprocess.run(["runuser", "-u", USER, "--", *argv], capture_output=True,
                              text=True, timeout=120, check=False, cwd=self.workdir)
        if done.returncode != 0:
            raise ComponentError(f"{' '.join(argv[:1])} failed: {done.stderr[-2000:]}")
        return done.stdout
