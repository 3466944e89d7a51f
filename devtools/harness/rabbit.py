"""A private RabbitMQ node (Debian's rabbitmq-server) on loopback ports, for tests and demos.

Usage::

    broker = RabbitBroker(Path("/tmp/run/rabbit"))
    broker.start()
    url = broker.new_vhost()          # rabbit://guest:guest@127.0.0.1:PORT/<fresh vhost>
    ...
    broker.stop()                     # also stops the epmd this node used

The node runs in the foreground of a process we own (no -detached), with its own epmd on a
private port, so ``stop()`` can always clean up everything it started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote

import requests
from kombu.connection import Connection

from harness.process import (
    ComponentError,
    free_port,
    kill_process,
    port_open,
    spawn,
    stop_process,
    tail,
    wait_until,
)

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
USER = PASSWORD = "guest"  # noqa: S105  (the private test broker's default user)


class RabbitBroker:
    """One RabbitMQ node whose files all live under ``workdir``."""

    def __init__(self, workdir: Path, amqp_port: int | None = None) -> None:
        self.workdir = workdir
        self.amqp_port = amqp_port or free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.http_port = free_port()
        self.node = f"hr{self.amqp_port}@localhost"
        self._proc: subprocess.Popen[bytes] | None = None
        self._epmd: subprocess.Popen[bytes] | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> None:
        """Start epmd and the node; return once AMQP and the management API answer."""
        if not (RABBIT_BIN / "rabbitmq-server").exists():
            raise ComponentError("rabbitmq-server is not installed (make deps installs it)")
        self._write_config()
        env = self._env()
        if self._epmd is None or self._epmd.poll() is not None:
            self._epmd = spawn(
                ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                self.workdir / "log" / "epmd.log", env=env,
            )
        self._proc = spawn([str(RABBIT_BIN / "rabbitmq-server")],
                           self.workdir / "log" / "server.out", env=env)
        try:
            wait_until(self._ready, timeout, f"RabbitMQ on port {self.amqp_port}",
                       interval=0.25, alive=lambda: self._proc is not None
                       and self._proc.poll() is None)
        except ComponentError as exc:
            raise ComponentError(f"{exc}\n{tail(self.workdir / 'log' / 'server.out')}") from exc

    def stop(self) -> None:
        """Stop the node gracefully (SIGKILL after a timeout), then its epmd."""
        stop_process(self._proc, timeout=30.0)
        self._proc = None
        stop_process(self._epmd, timeout=5.0)
        self._epmd = None

    def kill(self) -> None:
        """SIGKILL the node (a crash); durable queues and messages survive a ``start()``."""
        kill_process(self._proc)
        self._proc = None

    def restart(self) -> None:
        """Stop and start again on the same ports and data."""
        stop_process(self._proc, timeout=30.0)
        self._proc = None
        self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wipe(self) -> None:
        """Remove the node's data (only while stopped)."""
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- addresses --------------------------------------------------------------------------
    def url(self, vhost: str = "/") -> str:
        """oslo.messaging transport URL for ``vhost``."""
        return f"rabbit://{USER}:{PASSWORD}@127.0.0.1:{self.amqp_port}/{quote(vhost, safe='')}"

    def amqp_url(self, vhost: str = "/") -> str:
        """kombu URL for ``vhost``."""
        return f"amqp://{USER}:{PASSWORD}@127.0.0.1:{self.amqp_port}/{quote(vhost, safe='')}"

    # -- management -------------------------------------------------------------------------
    def new_vhost(self, name: str | None = None) -> str:
        """Create a vhost (random name by default) and return its transport URL."""
        name = name or f"t-{uuid.uuid4().hex[:12]}"
        self._api("PUT", f"vhosts/{quote(name, safe='')}")
        self._api("PUT", f"permissions/{quote(name, safe='')}/{USER}",
                  {"configure": ".*", "write": ".*", "read": ".*"})
        return self.url(name)

    def delete_vhost(self, name: str) -> None:
        self._api("DELETE", f"vhosts/{quote(name, safe='')}")

    def set_policy(self, vhost: str, name: str, pattern: str, definition: dict[str, object],
                   apply_to: str = "queues", priority: int = 0) -> None:
        """Apply a broker policy (e.g. max-length on a queue) in ``vhost``."""
        self._api("PUT", f"policies/{quote(vhost, safe='')}/{quote(name, safe='')}",
                  {"pattern": pattern, "definition": definition, "apply-to": apply_to,
                   "priority": priority})

    def queue_depth(self, vhost: str, queue: str) -> int | None:
        """Messages ready in ``queue`` (exact, by passive declare); None if it does not exist."""
        with Connection(self.amqp_url(vhost)) as conn:
            try:
                _name, count, _consumers = conn.default_channel.queue_declare(
                    queue=queue, passive=True)
            except conn.channel_errors:
                return None
            return int(count)

    def _api(self, method: str, path: str, body: dict[str, object] | None = None) -> None:
        resp = requests.request(method, f"http://127.0.0.1:{self.http_port}/api/{path}",
                                json=body, auth=(USER, PASSWORD), timeout=30)
        if resp.status_code >= 300:
            raise ComponentError(f"RabbitMQ API {method} {path}: {resp.status_code} {resp.text}")

    # -- internals --------------------------------------------------------------------------
    def _ready(self) -> bool:
        if not port_open(self.amqp_port):
            return False
        try:
            resp = requests.get(f"http://127.0.0.1:{self.http_port}/api/overview",
                                auth=(USER, PASSWORD), timeout=2)
        except requests.RequestException:
            return False
        return resp.status_code == 200

    def _write_config(self) -> None:
        for sub in ("home", "mnesia", "log"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        (self.workdir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.port = {self.http_port}\n"
            "management.tcp.ip = 127.0.0.1\n"
            "loopback_users = none\n"
            "log.console = false\n"
            "log.file.level = warning\n"
        )
        (self.workdir / "enabled_plugins").write_text("[rabbitmq_management].\n")

    def _env(self) -> dict[str, str]:
        dist_args = "-kernel inet_dist_use_interface {127,0,0,1}"
        env = dict(os.environ)
        env.update({
            "HOME": str(self.workdir / "home"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(self.workdir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.workdir / "log"),
            "RABBITMQ_PID_FILE": str(self.workdir / "rabbit.pid"),
            "RABBITMQ_CONFIG_FILE": str(self.workdir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.workdir / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": dist_args,
            "RABBITMQ_CTL_ERL_ARGS": dist_args,
        })
        return env
