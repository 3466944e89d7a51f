"""Fault trials on the production topology (harness.topology), shared by tests and ``make soak``.

One trial fails fresh hosts, publishes their host-downs, injects its fault mid-recovery, waits
(bounded) for every incident to end, puts the topology back (restarts what it killed) and
returns what it saw::

    faults = FaultRunner(topology)
    trial = faults.r1_listener_kill()
    assert trial.lost == trial.duplicated == trial.evacuated_twice == 0

Counts come from Mistral (executions per incident) and from the simulator's request log
(accepted evacuates per VM), not from our own components' logs.
"""

from __future__ import annotations

import collections
import functools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.listener import ListenerProcess
from harness.process import ComponentError, wait_until
from harness.rabbit_cluster import together
from harness.stack import StackOptions
from harness.topology import ProdTopology
from listener.mistral_api import MistralAPI
from listener.status import Incident, collect

T = TypeVar("T")


@dataclass
class Trial:
    """The outcome of one trial; ``finish_s`` runs from the fault to the last incident end."""

    suite: str
    hosts: list[str]
    vms: int = 0
    lost: int = 0
    duplicated: int = 0
    evacuated_twice: int = 0
    finish_s: float = 0.0
    resume_s: float = 0.0  # from the fault's end to the next evacuate Nova accepted
    requests: int = 0  # Nova/Placement requests the simulator logged during the trial
    notes: list[str] = field(default_factory=list)
    fault_error: str = ""  # the fault itself failed (a trial that did not test what it says)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.evacuated_twice or self.fault_error)


def fault_options(hosts: int, vms_per_host: int = 6, listeners: int = 3) -> StackOptions:
    """Topology options for fault trials: several hosts fail at once on purpose, so the
    mass-failure guard lets them through; evacuations take 0.5-1.5 s."""
    return StackOptions(
        hosts=hosts, vms_per_host=vms_per_host, listeners=listeners,
        latency={"kind": "uniform", "low": 0.5, "high": 1.5},
        scenario={"states": {"active": 0.7, "stopped": 0.3}, "server_groups": [],
                  "metadata": [{"weight": 1.0, "metadata": {}}], "host_vcpus": 4096},
        # instance_timeout: the recover step's backstop (instance_timeout x rounds + 30 s)
        # ends a recovery whose task Mistral left IDLE when its engine was killed
        actions={"guard": {"max_hosts": 1000, "max_fraction": 1.0, "window": 0},
                 "recovery": {"instance_timeout": 30}})


class FaultRunner:
    """Runs trials one after another on one topology, each on hosts never failed before."""

    def __init__(self, topology: ProdTopology, bound: float = 240.0) -> None:
        self.topo = topology
        self.bound = bound
        self.used: set[str] = set()
        assert topology.simulator is not None and topology.mistral is not None
        self.control = topology.simulator.control
        self.api = MistralAPI.from_url(topology.mistral.api_url)

    # -- the suites ---------------------------------------------------------------------------
    def r1_listener_kill(self, hosts: int = 2) -> Trial:
        """SIGKILL the listener that starts a recovery (as it logs the host-down), then
        another one once Nova accepted the first evacuate (it confirms evacuations)."""
        killed: list[ListenerProcess] = []

        def at_start(names: list[str]) -> None:
            pattern = re.compile("Host-down for incident \\S+ host (" + "|".join(names) + ") ")
            starter = _first(lambda: next((lst for lst in self.topo.listeners
                                           if lst.alive() and pattern.search(lst.text())),
                                          None), 60)
            starter.kill()
            killed.append(starter)

        def at_evacuate(first_seen: float) -> None:
            survivor = next(lst for lst in self.topo.listeners if lst.alive())
            survivor.kill()
            killed.append(survivor)

        trial = self._run("R1", hosts, at_start, at_evacuate)
        together([functools.partial(_restart_listener, listener) for listener in killed])
        trial.notes.append(f"killed {', '.join(lst.name for lst in killed)}")
        return trial

    def r3_engine_executor_kill(self, number: int = 1) -> Trial:
        """SIGKILL one engine and one executor once Nova accepted the first evacuate."""
        assert self.topo.mistral_cluster is not None
        procs = [self.topo.mistral_cluster.process(f"{kind}-{number}")
                 for kind in ("engine", "executor")]

        def at_evacuate(first_seen: float) -> None:
            for proc in procs:
                proc.kill()

        trial = self._run("R3", 1, None, at_evacuate)
        together([proc.start for proc in procs])
        trial.notes.append(f"killed engine-{number}, executor-{number}")
        return trial

    # -- one trial ----------------------------------------------------------------------------
    def _run(self, suite: str, count: int, at_start: Callable[[list[str]], None] | None,
             at_evacuate: Callable[[float], None], allow_failed: bool = False) -> Trial:
        names = self.fresh_hosts(count)
        vms = {h: {vm["id"] for vm in self.control.servers(h)} for h in names}
        trial = Trial(suite, names, vms=sum(len(v) for v in vms.values()))
        # entries after the current total are this trial's (the large since skips the list)
        since = int(self.control.requests(since=2**62)["summary"]["total"])
        killer = None
        if at_start is not None:
            killer = threading.Thread(target=at_start, args=(names,), daemon=True)
            killer.start()
        for host in names:
            self.control.fail_host(host, immediate=True)
        incidents = dict(zip(names, _together_results(
            [functools.partial(self.topo.notify_host_down, h) for h in names]), strict=True))
        if killer is not None:
            killer.join(60)
        all_vms = set().union(*vms.values())
        first: dict[str, Any] = _first(
            lambda: next((a for a in self.control.server_actions("evacuate", since)
                          if a["server_id"] in all_vms), None), 120)
        fault_at = time.monotonic()
        at_evacuate(fault_at)
        ended = self.wait_ended(incidents)
        trial.finish_s = time.monotonic() - fault_at
        trial.notes.append(f"first evacuate seq {first['seq']}")
        self.count(trial, incidents, ended, vms, since, allow_failed)
        return trial

    def fresh_hosts(self, count: int) -> list[str]:
        load = collections.Counter(vm["host"] for vm in self.control.servers())
        # the least loaded first: hosts that received evacuated VMs come last
        candidates = sorted(set(load) - self.used, key=lambda h: (load[h], h))
        if len(candidates) < count + 2:  # keep destinations for the evacuated VMs
            raise RuntimeError(f"not enough fresh hosts left ({len(candidates)})")
        chosen = candidates[:count]
        self.used.update(chosen)
        return chosen

    def wait_ended(self, incidents: dict[str, str]) -> dict[str, list[Incident]]:
        """Every attempt of each incident once all have ended (or after ``bound``)."""
        found: dict[str, list[Incident]] = {}

        def all_ended() -> bool:
            for host, incident in incidents.items():
                found[host] = collect(self.api, incident=incident)
            return all(found[h] and found[h][-1].state not in ("running", "held")
                       for h in incidents)

        try:
            wait_until(all_ended, self.bound, "incidents to end", interval=0.5)
        except ComponentError:
            pass  # whatever has not ended is counted as lost
        return found

    def count(self, trial: Trial, incidents: dict[str, str], ended: dict[str, list[Incident]],
              vms: dict[str, set[str]], since: int, allow_failed: bool = False) -> None:
        """Lost: an incident not done, or a VM of it neither evacuated (in any attempt) nor,
        with ``allow_failed``, failed with Nova's reason. Duplicated: two executions of one
        attempt. Evacuated twice: two evacuates Nova accepted for one VM."""
        for host, attempts in ended.items():
            last = attempts[-1] if attempts else None
            rows = [row for a in attempts for row in a.vms]
            ended_vms = {row.id for row in rows if row.result == "evacuated"
                         or (allow_failed and row.result == "failed" and row.reason)}
            ending = ("done", "failed") if allow_failed else ("done",)
            if last is None or last.state not in ending or ended_vms != vms[host]:
                trial.lost += 1
                trial.notes.append(f"{host} incident {incidents[host]}: "
                                   f"{last.state if last else 'no execution'} "
                                   f"{last.counts if last else ''} {last.reason if last else ''}")
                trial.notes.extend(self._stuck(incidents[host]))
            numbers = [a.attempt for a in attempts]
            trial.duplicated += len(numbers) - len(set(numbers))
        log = self.control.requests(since)
        trial.requests = len(log["entries"])
        accepted = collections.Counter(
            a["server_id"] for a in self.control.server_actions("evacuate", since)
            if a["status"] < 300)
        # a retry after a failed rebuild is a second accepted evacuate the workflow counted
        # in its attempts (R4); a duplicate is one beyond them
        tries: dict[str, int] = {}
        for attempts in ended.values():
            for row in (row for a in attempts for row in a.vms):
                tries[row.id] = max(tries.get(row.id, 1), row.attempts)
        trial.evacuated_twice = sum(1 for vm, n in accepted.items() if n > tries.get(vm, 1))

    def _stuck(self, incident: str) -> list[str]:
        """Unfinished tasks of the incident's executions (what a lost incident waits on)."""
        found = []
        for ex in self.api.list_executions(fields=["id", "workflow_name", "state", "input"],
                                           state="RUNNING"):
            if incident not in str(ex.get("input")) and ex.get("id") != incident:
                continue
            for task in self.api.list_tasks(fields=["id", "name", "state"],
                                            workflow_execution_id=str(ex["id"])):
                if task.get("state") not in ("SUCCESS", "SKIPPED"):
                    found.append(f"{ex['workflow_name']} {ex['id']}: task {task['name']} "
                                 f"{task['state']}")
        return found


def _first(probe: Callable[[], T | None], timeout: float) -> T:
    """The first non-None value ``probe`` returns, polled every 5 ms (a fault's trigger)."""
    box: list[T] = []

    def found() -> bool:
        value = probe()
        if value is not None:
            box.append(value)
        return bool(box)

    wait_until(found, timeout, "the fault's trigger", interval=0.005)
    return box[0]


def _together_results(calls: list[Callable[[], str]]) -> list[str]:
    results: list[str] = [""] * len(calls)

    def run(i: int) -> None:
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _restart_listener(listener: ListenerProcess) -> None:
    """Start a killed listener again; wait for its new 'consuming' line."""
    before = listener.text().count("consuming host-downs")
    listener.start(wait=False)
    wait_until(lambda: listener.text().count("consuming host-downs") > before, 90,
               f"listener {listener.name} to restart", interval=0.2, alive=listener.alive)
