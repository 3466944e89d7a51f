"""The whole chain on one machine: RabbitMQ, the simulator, Mistral with our actions, listeners.

One implementation for the demo, benchmarks and end-to-end tests::

    with Stack(Path("/tmp/run"), StackOptions(hosts=4, vms_per_host=10)) as stack:
        stack.simulator.control.fail_host("compute1", immediate=True)
        incident = stack.notify_host_down("compute1")     # via host-recovery-notify
        ...

Vhosts: ``mistral`` for Mistral's RPC; ``cloud`` for everything the cloud shares (Nova's
notifications, host-downs, our recovery notifications), as one OpenStack broker would.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from harness import cluster_trigger
from harness.listener import ListenerProcess, write_ini
from harness.mistral import MistralServer
from harness.pacemaker import PacemakerError
from harness.process import ComponentError, tail, wait_until
from harness.rabbit import RabbitBroker
from harness.simulator import SimulatorProcess

BIN = Path(sys.executable).parent
# futurist imports eventlet only to probe for it, which prints a deprecation warning on
# every CLI start; the demo's screen is for the recovery, not for that.
QUIET_ENV = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}


@dataclass
class StackOptions:
    """What to start; everything has a demo-friendly default."""

    hosts: int = 4
    vms_per_host: int = 8
    listeners: int = 2
    microversion: str = "2.95"
    # seconds one evacuation takes in the simulator (scheduling + rebuild)
    latency: dict[str, Any] = field(
        default_factory=lambda: {"kind": "uniform", "low": 1.0, "high": 4.0})
    scenario: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    signing_key: str = field(default_factory=lambda: secrets.token_hex(16))
    # Host-downs through a single-node Pacemaker and our agents (root only; else the CLI).
    pacemaker: bool = False
    # extra mistral.conf settings by section (the bench's A/B runs), over the harness's own
    mistral_config: dict[str, dict[str, str]] = field(default_factory=dict)
    # 0: Mistral's executor is a thread of its one process; K: K executor processes beside
    # it (our actions off the engine's interpreter lock; SQLite stays the engine's alone)
    mistral_executors: int = 0


class Stack:
    """Starts the components in dependency order and stops whatever it started."""

    def __init__(self, workdir: Path, options: StackOptions | None = None) -> None:
        self.workdir = workdir
        self.options = options or StackOptions()
        self.rabbit = RabbitBroker(workdir / "rabbit")
        self.cloud_url = ""
        self.simulator: SimulatorProcess | None = None
        self.mistral: MistralServer | None = None
        self.mistral_executors: list[MistralServer] = []
        self.listeners: list[ListenerProcess] = []
        self.actions_config = workdir / "actions.conf"
        self.agent_config = workdir / "agent.conf"
        self.trigger: cluster_trigger.PacemakerTrigger | None = None
        #: Why host-downs go through host-recovery-notify although Pacemaker was asked for.
        self.trigger_note = ""
        self._metrics_urls: list[str] = []  # the listeners' exporters, once known

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Stack:
        opts = self.options
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rabbit.start()
        self.cloud_url = self.rabbit.new_vhost("cloud")
        scenario = {"hosts": opts.hosts, "vms_per_host": opts.vms_per_host,
                    "latency": opts.latency, **opts.scenario}
        self.simulator = SimulatorProcess(self.workdir / "simulator", self.cloud_url,
                                          scenario=scenario)
        self.simulator.start()
        mistral_url = self.rabbit.new_vhost("mistral")
        split = opts.mistral_executors > 0
        self.mistral = MistralServer(
            self.workdir / "mistral", mistral_url, actions_config=self.actions_config,
            extra_config=opts.mistral_config,
            services=("api", "engine", "notifier", "periodic") if split else None)
        self._write_actions_config()
        self.mistral.start()
        database = {"connection": f"sqlite:///{self.mistral.workdir / 'mistral.sqlite'}"}
        self.mistral_executors = [
            MistralServer(self.workdir / f"mistral-executor-{n + 1}", mistral_url,
                          actions_config=self.actions_config,
                          extra_config={**opts.mistral_config, "database": database},
                          services=("executor",))
            for n in range(opts.mistral_executors)]
        for executor in self.mistral_executors:
            executor.start()
        self.operator("workflow", "sync")
        # our policies and the broker's dead-letter queues, as docs/operations.md says
        self.operator("setup-broker", "--management-url",
                      f"http://127.0.0.1:{self.rabbit.http_port}")
        self._write_agent_config()
        for n in range(opts.listeners):
            listener = ListenerProcess(self.workdir / "listeners", f"controller-{n + 1}",
                                       self.cloud_url, self.mistral.api_url,
                                       signing_key=opts.signing_key)
            listener.start(wait=False)
            self.listeners.append(listener)
        for listener in self.listeners:
            _wait_ready(listener)
        if opts.pacemaker:
            self._start_trigger()
        return self

    def _start_trigger(self) -> None:
        if reason := cluster_trigger.unavailable():
            self.trigger_note = reason
            return
        prefix = str(self.options.scenario.get("host_prefix", "compute"))
        trigger = cluster_trigger.PacemakerTrigger(
            self.workdir / "pacemaker", self.cloud_url, self.options.signing_key,
            [f"{prefix}{n + 1}" for n in range(self.options.hosts)])
        try:
            trigger.start()
        except (ComponentError, PacemakerError, subprocess.TimeoutExpired, OSError) as exc:
            trigger.stop()
            self.trigger_note = f"Pacemaker did not start: {exc}"
            return
        self.trigger = trigger

    def stop(self) -> None:
        """Stop in reverse order; never raises (it runs on every exit path)."""
        if self.trigger is not None:
            self.trigger.stop()
            self.trigger = None
        for listener in self.listeners:
            listener.terminate()
        for executor in self.mistral_executors:
            executor.stop()
        if self.mistral is not None:
            self.mistral.stop()
        if self.simulator is not None:
            self.simulator.stop()
        self.rabbit.stop()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- actions ----------------------------------------------------------------------------
    def fail_host(self, host: str) -> str:
        """Fail ``host`` in the simulator and report it; the incident id.

        With Pacemaker: fenced in its history, published by our agents. Without: the CLI.
        """
        assert self.simulator is not None
        self.simulator.control.fail_host(host, immediate=True)
        if self.trigger is None:
            return self.notify_host_down(host)
        self.trigger.fence(host)
        return self.trigger.incident(host)

    def notify_host_down(self, host: str, fencing_confirmed: bool = True) -> str:
        """Publish a host-down with our CLI, as an agent would; the incident id.

        ``fencing_confirmed``: the harness failed the host itself, so it is the one who proved
        it dead (operator evidence dated now, which the fence step accepts).
        """
        argv = [str(BIN / "host-recovery-notify"), "--config-file", str(self.agent_config),
                "--host", host]
        if fencing_confirmed:
            argv += ["--fenced-by", "host-recovery-harness"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                              env=QUIET_ENV)
        if done.returncode != 0:
            raise ComponentError(f"host-recovery-notify failed: {done.stderr.strip()}")
        return _incident_from(done.stdout + done.stderr)

    def operator(self, *args: str, check: bool = True,
                 capture: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``host-recovery <args>`` with the first listener's configuration."""
        config = self.write_operator_config()
        done = subprocess.run([str(BIN / "host-recovery"), "--config-file", str(config),
                               *args], capture_output=capture, text=True, timeout=3600,
                              check=False, env=QUIET_ENV)
        if check and done.returncode != 0:
            raise ComponentError(f"host-recovery {' '.join(args)} exited {done.returncode}: "
                                 f"{done.stderr}{done.stdout}")
        return done

    # -- configuration ----------------------------------------------------------------------
    def write_operator_config(self, metrics_urls: list[str] | None = None) -> Path:
        """``operator.conf`` for ``host-recovery``: the broker, Mistral and, when known, the
        listeners' exporters (``health`` then checks every listener can verify signatures;
        kept for later calls)."""
        config = self.workdir / "operator.conf"
        assert self.mistral is not None
        metrics_urls = self._metrics_urls = metrics_urls or self._metrics_urls
        sections = {"DEFAULT": {"transport_url": self.cloud_url},
                    "mistral": {"auth_type": "none", "endpoint_override": self.mistral.api_url},
                    # the key the listeners verify with: health compares their key ids
                    "host_down": {"signing_key": self.options.signing_key}}
        if metrics_urls:
            sections["health"] = {"listener_metrics_urls": ",".join(metrics_urls)}
        write_ini(config, sections)
        return config

    def _write_actions_config(self) -> None:
        assert self.simulator is not None and self.mistral is not None
        write_actions_config(self.actions_config, self.mistral, self.simulator,
                             microversion=self.options.microversion,
                             notifications={"transport_url": self.cloud_url},
                             **self.options.actions)

    def _write_agent_config(self) -> None:
        write_ini(self.agent_config, {
            "DEFAULT": {"use_stderr": "True"},
            "publisher": {"transport_url": self.cloud_url},
            "host_down": {"signing_key": self.options.signing_key},
            "agent": {"reporter": "demo"},
        })


def _wait_ready(listener: ListenerProcess) -> None:
    try:
        wait_until(listener.ready, 90, f"listener {listener.name}", interval=0.2,
                   alive=listener.alive)
    except ComponentError as exc:
        raise ComponentError(f"{exc}\n{tail(listener.out)}\n{tail(listener.log)}") from exc


def _incident_from(output: str) -> str:
    """The incident id host-recovery-notify printed (a UUID)."""
    found = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", output)
    if not found:
        raise ComponentError(f"no incident id in host-recovery-notify output: {output!r}")
    return str(found[0])


def write_actions_config(path: Path, mistral: MistralServer, simulator: SimulatorProcess,
                         microversion: str = "2.95", **groups: dict[str, Any]) -> None:
    """The action pack's config: Nova through the simulator's Keystone, our Mistral.

    ``groups`` add or override sections (e.g. ``guard={"window": 0}``).
    """
    creds = simulator.credentials()
    sections: dict[str, dict[str, Any]] = {
        "nova": {"auth_type": "password", "auth_url": creds["auth_url"],
                 "username": creds["username"], "password": creds["password"],
                 "project_name": creds["project_name"],
                 "user_domain_name": creds["user_domain_name"],
                 "project_domain_name": creds["project_domain_name"],
                 "interface": "public", "api_version": microversion},
        "mistral": {"url": mistral.api_url},
    }
    for name, values in groups.items():
        sections.setdefault(name, {}).update(values)
    write_ini(path, {name: {k: str(v) for k, v in values.items()}
                     for name, values in sections.items()})
