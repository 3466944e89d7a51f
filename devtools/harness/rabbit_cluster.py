"""A 3-node RabbitMQ cluster on loopback (one Erlang cookie, one epmd, private ports).

Usage::

    cluster = RabbitCluster(Path("/tmp/run/rabbit"))
    cluster.start()                  # node 1, then nodes 2 and 3 join it (classic_config)
    url = cluster.new_vhost("cloud") # rabbit://guest:guest@127.0.0.1:P1,...:P2,...:P3/cloud
    cluster.nodes[1].stop(); cluster.nodes[1].start()   # one node down and back
    cluster.restart()                # full stop, then every node starts together
    cluster.stop()

Only node 1 runs the management plugin (vhosts, policies): it is the test's control plane,
so fault tests stop nodes 2 and 3, never node 1's API mid-test.
"""

from __future__ import annotations

import secrets
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from harness.process import ComponentError, free_port, port_open, spawn, stop_process
from harness.rabbit import PASSWORD, RABBIT_BIN, USER, RabbitBroker


class ClusterNode(RabbitBroker):
    """A RabbitBroker that shares the cluster's epmd and cookie and lists its peers."""

    def __init__(self, workdir: Path, cluster: RabbitCluster, management: bool) -> None:
        super().__init__(workdir)
        self.cluster = cluster
        self.management = management
        self.epmd_port = cluster.epmd_port
        # the cluster owns epmd; RabbitBroker.start spawns one only when this is None
        self._epmd = cluster.epmd_handle

    def stop(self) -> None:
        """Stop this node only (graceful, SIGKILL after a timeout); epmd is the cluster's."""
        stop_process(self._proc, timeout=30.0)
        self._proc = None

    def _write_config(self) -> None:
        super()._write_config()
        conf = self.workdir / "rabbitmq.conf"
        peers = "".join(f"cluster_formation.classic_config.nodes.{n} = {node}\n"
                        for n, node in enumerate(self.cluster.node_names, start=1))
        text = conf.read_text() + (
            "cluster_formation.peer_discovery_backend = classic_config\n" + peers
            + "cluster_formation.randomized_startup_delay_range.min = 0\n"
            "cluster_formation.randomized_startup_delay_range.max = 1\n"
            "cluster_partition_handling = pause_minority\n")
        if not self.management:
            text = "".join(line + "\n" for line in text.splitlines()
                           if not line.startswith("management."))
            (self.workdir / "enabled_plugins").write_text("[].\n")
        conf.write_text(text)
        cookie = self.workdir / "home" / ".erlang.cookie"
        cookie.write_text(self.cluster.cookie)
        cookie.chmod(0o400)

    def _ready(self) -> bool:
        if self.management:
            return super()._ready()
        # a cheap probe first: each rabbitmqctl call boots an Erlang VM (seconds of CPU on a
        # loaded machine); the AMQP listener opens late in the boot, after the cluster join
        if not port_open(self.amqp_port):
            return False
        try:
            return self.ctl("await_startup", "--timeout", "5", timeout=60).returncode == 0
        except subprocess.TimeoutExpired:  # the machine is busy: ask again
            return False

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """rabbitmqctl against this node (same HOME, cookie and epmd)."""
        return subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, *args],
                              env=self._env(), capture_output=True, text=True,
                              timeout=timeout, check=False)


class RabbitCluster:
    """Three nodes; ``nodes[0]`` carries the management API."""

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        self.cookie = secrets.token_hex(16)
        self.epmd_port = free_port()
        self.epmd_handle: subprocess.Popen[bytes] | None = None
        self.node_names: list[str] = []
        self.nodes: list[ClusterNode] = []
        for n in range(size):
            node = ClusterNode(workdir / f"node{n + 1}", self, management=n == 0)
            self.node_names.append(node.node)
            self.nodes.append(node)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """epmd, node 1 (it forms the cluster), then the others together (they join it)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.epmd_handle is None or self.epmd_handle.poll() is not None:
            self.epmd_handle = spawn(
                ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                self.workdir / "epmd.log")
        for node in self.nodes:
            node._epmd = self.epmd_handle
        fresh = not (self.nodes[0].workdir / "mnesia").exists()
        if fresh:
            self.nodes[0].start()
            together([node.start for node in self.nodes[1:]])
        else:  # after a full stop each node waits for its peers: start them together
            together([node.start for node in self.nodes])
        self._check_members()

    def stop(self) -> None:
        """Stop every node, then epmd; never raises."""
        together([node.stop for node in self.nodes])
        stop_process(self.epmd_handle, timeout=5.0)
        self.epmd_handle = None

    def restart(self) -> list[str]:
        """The whole broker down, then every node up together (same data, same ports).

        RabbitMQ 3.10 can fail one node's boot when nodes sync feature flags at the same
        instant (``incompatible_feature_flags`` ``{badmap,undefined}``, 1 full restart in 20
        here): that node is started again once the others run, as an operator would, and
        the returned notes say so.
        """
        together([node.stop for node in self.nodes])
        failed = together_failed([node.start for node in self.nodes])
        notes = []
        for index, exc in failed:
            first = str(exc).splitlines()[0] if str(exc) else repr(exc)
            cause = "incompatible_feature_flags" if "incompatible_feature_flags" in str(exc) \
                else first
            notes.append(f"node{index + 1} failed to boot ({cause}); started again")
            self.nodes[index].start()
        self._check_members()
        return notes

    # -- addresses --------------------------------------------------------------------------
    def url(self, vhost: str = "/") -> str:
        """oslo transport URL listing every node."""
        hosts = ",".join(f"{USER}:{PASSWORD}@127.0.0.1:{node.amqp_port}" for node in self.nodes)
        return f"rabbit://{hosts}/{quote(vhost, safe='')}"

    def new_vhost(self, name: str | None = None) -> str:
        """Create a vhost through node 1's API; the all-nodes transport URL."""
        name = name or f"t-{secrets.token_hex(6)}"
        self.nodes[0].new_vhost(name)
        return self.url(name)

    def _check_members(self) -> None:
        out = self.nodes[0].ctl("cluster_status", "--formatter", "json").stdout
        missing = [name for name in self.node_names if f'"{name}"' not in out]
        if missing or '"running_nodes"' not in out:
            raise ComponentError(f"RabbitMQ cluster incomplete, missing {missing}: {out}")


def together(calls: list[Callable[[], object]]) -> None:
    """Run ``calls`` in parallel threads; re-raise the first error."""
    failed = together_failed(calls)
    if failed:
        raise failed[0][1]


def together_failed(calls: list[Callable[[], object]]) -> list[tuple[int, BaseException]]:
    """Run ``calls`` in parallel threads; (index, error) of each call that raised."""
    errors: list[tuple[int, BaseException]] = []

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            call()
        except BaseException as exc:  # returned to the caller
            errors.append((index, exc))

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(errors, key=lambda e: e[0])
