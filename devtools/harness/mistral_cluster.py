"""Mistral 23 as separate processes on PostgreSQL and RabbitMQ, as production runs it.

Usage::

    cluster = MistralCluster(Path("/tmp/run/mistral"), transport_url, postgres,
                             actions_config=path)
    cluster.start()                    # schema (upgrade head + populate), then 6 processes
    cluster.api.api_url                # http://127.0.0.1:PORT/v2
    cluster.process("engine-1").kill() # SIGKILL one engine; the other carries on
    cluster.stop()

Each process is a :class:`harness.mistral.MistralServer` running a subset of the services,
with the same settings as the embedded one (scheduler tick, heartbeats, auth off, HTTP
actions allowed on loopback), plus quorum queues for Mistral's own RPC topics.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.mistral import MistralServer, default_venv
from harness.postgres import PostgresServer
from harness.process import ComponentError
from harness.rabbit_cluster import together

# name -> services; the API process also runs the periodic service (cron triggers)
LAYOUT: dict[str, tuple[str, ...]] = {
    "api": ("api", "periodic"),
    "engine-1": ("engine",),
    "engine-2": ("engine",),
    "executor-1": ("executor",),
    "executor-2": ("executor",),
    "notifier": ("notifier",),
}


class MistralCluster:
    """The six processes of :data:`LAYOUT`, sharing one PostgreSQL database."""

    def __init__(self, workdir: Path, transport_url: str, postgres: PostgresServer,
                 actions_config: Path | None = None, database: str = "mistral",
                 layout: dict[str, tuple[str, ...]] | None = None,
                 extra_config: dict[str, dict[str, str]] | None = None) -> None:
        self.workdir = workdir
        self.postgres = postgres
        self.database = database
        extra = {"database": {"connection": postgres.url(database),
                              "max_pool_size": "10", "max_overflow": "20"},
                 "oslo_messaging_rabbit": {"rabbit_quorum_queue": "True"}}
        for section, values in (extra_config or {}).items():
            extra[section] = {**extra.get(section, {}), **values}
        self.processes = {
            name: MistralServer(workdir / name, transport_url, actions_config=actions_config,
                                extra_config=extra, services=services)
            for name, services in (layout or LAYOUT).items()}

    @property
    def api(self) -> MistralServer:
        return self.processes["api"]

    @property
    def api_url(self) -> str:
        return self.api.api_url

    def process(self, name: str) -> MistralServer:
        return self.processes[name]

    def start(self) -> None:
        """Build the schema (first time), then start every process in parallel."""
        prepare_database(self.postgres, self.database, self.workdir)
        together([server.start for server in self.processes.values()])

    def stop(self) -> None:
        """Stop every process; never raises."""
        together([server.stop for server in self.processes.values()])

    def pids(self) -> list[int]:
        return [server.pid for server in self.processes.values()
                if server.running and server.pid is not None]


def prepare_database(postgres: PostgresServer, database: str, workdir: Path) -> None:
    """Create ``database`` with Mistral's schema: ``mistral-db-manage upgrade head`` (works on
    PostgreSQL, unlike SQLite), then ``populate``. Idempotent (a marker in ``workdir``);
    it needs only PostgreSQL, so it can run while the broker starts."""
    marker = workdir / f"schema-{database}-done"
    if marker.exists():
        return
    postgres.create_database(database)
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "db-manage.conf"
    conf.write_text(f"[database]\nconnection = {postgres.url(database)}\n"
                    f"[DEFAULT]\nlog_file = {workdir / 'db-manage.log'}\n"
                    "use_stderr = False\n")
    manage = str(default_venv() / "bin" / "mistral-db-manage")
    for step in (["upgrade", "head"], ["populate"]):
        done = subprocess.run([manage, "--config-file", str(conf), *step],
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise ComponentError(f"mistral-db-manage {' '.join(step)} failed:\n"
                                 f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    marker.write_text("")
