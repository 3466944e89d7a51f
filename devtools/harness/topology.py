"""The production topology on one machine: PostgreSQL, a 3-node RabbitMQ cluster with quorum
queues, Mistral as six processes, three listeners, the simulator.

    with ProdTopology(Path("/tmp/run"), StackOptions(listeners=3)) as topo:
        topo.simulator.control.fail_host("compute1", immediate=True)
        incident = topo.notify_host_down("compute1")
        topo.mistral_cluster.process("engine-1").kill()

It is a :class:`harness.stack.Stack` (same operator, notify and config helpers); ``mistral``
is the API process, so everything written for the embedded stack works against it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import tenacity

from harness.listener import ListenerProcess
from harness.mistral_cluster import MistralCluster, prepare_database
from harness.postgres import PostgresServer
from harness.process import ComponentError
from harness.rabbit_cluster import RabbitCluster, together
from harness.simulator import SimulatorProcess
from harness.stack import Stack, StackOptions, _wait_ready, write_actions_config

# our queues as quorum queues; oslo declares them, our kombu publishers mirror the arguments
QUORUM = {"rabbit_quorum_queue": "True", "amqp_durable_queues": "True"}
NOVA_ENV = {f"OS_OSLO_MESSAGING_RABBIT__{key.upper()}": value for key, value in QUORUM.items()}


class ProdTopology(Stack):
    """Start order: PostgreSQL and RabbitMQ together, simulator, Mistral, listeners."""

    def __init__(self, workdir: Path, options: StackOptions | None = None) -> None:
        super().__init__(workdir, options or StackOptions(listeners=3))
        self.postgres: PostgresServer | None = None
        self.cluster = RabbitCluster(workdir / "rabbit")
        self.mistral_cluster: MistralCluster | None = None
        self.start_seconds = 0.0

    def start(self) -> ProdTopology:
        began = time.monotonic()
        opts = self.options
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.postgres = PostgresServer()
        self.postgres.start()
        # the schema needs only PostgreSQL: build it while the broker nodes boot
        together([self.cluster.start, functools.partial(
            prepare_database, self.postgres, "mistral", self.workdir / "mistral")])
        self.cloud_url = self.cluster.new_vhost("cloud")
        scenario = {"hosts": opts.hosts, "vms_per_host": opts.vms_per_host,
                    "latency": opts.latency, **opts.scenario}
        self.simulator = SimulatorProcess(self.workdir / "simulator", self.cloud_url,
                                          scenario=scenario)
        self.mistral_cluster = MistralCluster(self.workdir / "mistral",
                                              self.cluster.new_vhost("mistral"),
                                              self.postgres, actions_config=self.actions_config,
                                              extra_config=opts.mistral_config)
        self.mistral = self.mistral_cluster.api
        # Nova (the simulator) on a quorum-queue broker declares durable exchanges too (nova.conf
        # would say so); it reads oslo options from OS_<GROUP>__<OPTION>, set for its spawn
        with _environ(NOVA_ENV):
            together([self.simulator.start, self.mistral_cluster.start])
        self._write_actions_config()
        # Mistral's one API worker can miss a connect timeout on a busy machine: ask again
        tenacity.Retrying(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(5),
                          retry=tenacity.retry_if_exception_type(ComponentError),
                          reraise=True)(self.operator, "workflow", "sync")
        self._write_agent_config()
        for n in range(opts.listeners):
            self.listeners.append(self.new_listener(f"controller-{n + 1}"))
        for listener in self.listeners:
            listener.start(wait=False)
        for listener in self.listeners:
            _wait_ready(listener)
        self.start_seconds = time.monotonic() - began
        return self

    def __enter__(self) -> ProdTopology:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse order; never raises."""
        # the clients together, then what they use together: ~15 s instead of ~35 s
        clients: list[Callable[[], object]] = [lst.terminate for lst in self.listeners]
        if self.mistral_cluster is not None:
            clients.append(self.mistral_cluster.stop)
        if self.simulator is not None:
            clients.append(self.simulator.stop)
        with contextlib.suppress(Exception):
            together(clients)
        servers: list[Callable[[], object]] = [self.cluster.stop]
        if self.postgres is not None:
            servers.append(self.postgres.stop)
        with contextlib.suppress(Exception):
            together(servers)
        if self.postgres is not None:
            self.postgres.wipe()

    def new_listener(self, name: str, url: str | None = None) -> ListenerProcess:
        """A listener (not started) configured like the topology's own; ``url``: another
        transport URL (R6 routes one through a proxy)."""
        assert self.mistral is not None
        return ListenerProcess(self.workdir / "listeners", name, url or self.cloud_url,
                               self.mistral.api_url, signing_key=self.options.signing_key,
                               extra={"oslo_messaging_rabbit": dict(QUORUM),
                                      "nova_notifications": {"amqp_durable_queues": "True"}})

    def rss_mb(self) -> dict[str, float]:
        """Resident memory per component (process trees summed), in MB."""
        groups: dict[str, list[int]] = {
            "rabbitmq": [n._proc.pid for n in self.cluster.nodes if n._proc is not None],
            "postgresql": [self.postgres._proc.pid] if self.postgres and self.postgres._proc
            else [],
            "mistral": self.mistral_cluster.pids() if self.mistral_cluster else [],
            "listeners": [lst.proc.pid for lst in self.listeners if lst.proc is not None],
        }
        return {name: _tree_rss(pids) / 2**20 for name, pids in groups.items()}

    def _write_actions_config(self) -> None:
        assert self.simulator is not None and self.mistral is not None
        write_actions_config(self.actions_config, self.mistral, self.simulator,
                             microversion=self.options.microversion,
                             notifications={"transport_url": self.cloud_url},
                             oslo_messaging_rabbit=dict(QUORUM), **self.options.actions)

    def _write_agent_config(self) -> None:
        super()._write_agent_config()
        # the agent declares the quorum host-down queue with oslo's arguments; it retries
        # for 2 min, as Pacemaker's monitor would, across a whole broker restart (R2)
        with self.agent_config.open("a") as conf:
            conf.write("[oslo_messaging_rabbit]\n"
                       + "".join(f"{key} = {value}\n" for key, value in QUORUM.items()))
        text = self.agent_config.read_text()
        self.agent_config.write_text(text.replace("[publisher]\n",
                                                  "[publisher]\ntotal_timeout = 120\n", 1))


def serve(options: StackOptions, workdir: Path) -> int:
    """``host-recovery-harness up --topology prod``: start, print, wait for SIGTERM/Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    options.listeners = max(options.listeners, 3)
    with ProdTopology(workdir, options) as topo:
        assert topo.mistral is not None and topo.simulator is not None
        print(f"workdir    {workdir}\nbroker     {topo.cloud_url}\n"
              f"mistral    {topo.mistral.api_url}\nnova       {topo.simulator.compute_url}\n"
              f"agent conf {topo.agent_config}\nstarted in {topo.start_seconds:.0f} s, RSS MB "
              f"{ {k: round(v) for k, v in topo.rss_mb().items()} }\n"
              "Ctrl-C stops everything.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ while children are spawned (they copy it), then removed."""
    os.environ.update(values)
    try:
        yield
    finally:
        for key in values:
            os.environ.pop(key, None)


def _tree_rss(pids: list[int]) -> int:
    """Bytes resident in ``pids`` and all their descendants (read from /proc)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(statm[1]) * 4096
    wanted = set(pids)
    changed = True
    while changed:  # close over descendants
        grown = {pid for pid, ppid in parent.items() if ppid in wanted} - wanted
        changed = bool(grown)
        wanted |= grown
    return sum(rss.get(pid, 0) for pid in wanted)
