"""Our chain measured through the project's ``Stack`` (RabbitMQ, Mistral, simulator, listeners).

* ``run_recovery``: P2 (failure → incident ended, every VM back in its original state) and
  the P3 figures of that run (rebuild.end → confirmation, requests per VM);
* ``run_incidents``: P1, one incident after the other on hosts of two active VMs;
* ``run_rack``: P5, several hosts failed at once (guard set to allow), peak RSS of listeners
  and Mistral, largest field Mistral stored.

The host-down is published in-process with the agents' own sender (what
``host-recovery-notify`` does, without its interpreter start-up).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import requests

from agents import service as agent_service
from bench.peers import HOST, evacuable, request_counts, restored, scenario
from bench.profile import save
from harness.process import wait_until
from harness.stack import Stack, StackOptions
from harness.topology import ProdTopology
from notifications.fencing_evidence import make_evidence

DONE = ("SUCCESS", "ERROR", "CANCELLED")


def options(n: int, latency: float, concurrency: int, hosts: int = 4,
            **extra: Any) -> StackOptions:
    """The stack for one run: guard open, ``concurrency`` VMs at once."""
    sc = scenario(n, latency, hosts)
    return StackOptions(hosts=sc.pop("hosts"), vms_per_host=sc.pop("vms_per_host"),
                        latency=sc.pop("latency"), scenario={**sc, **extra},
                        actions={"recovery": {"concurrency": concurrency},
                                 "guard": {"window": 0, "max_hosts": 1000,
                                           "max_fraction": 1.0}})


def publish(stack: Stack, host: str, incident: str) -> float:
    """Publish a fenced host-down in-process; the epoch time the broker confirmed it.

    The bench failed the host itself, so it carries the evidence (an operator's, dated now)
    the fence step needs: as every peer, ours starts from a host proven dead.
    """
    conf = agent_service.prepare(["--config-file", str(stack.agent_config)], [])
    now = dt.datetime.now(dt.UTC)
    evidence = make_evidence("operator", host, now, by="bench")
    agent_service.send_host_down(conf, host, incident_id=incident, failure_time=now,
                                 fencing_confirmed=True, source="cli",
                                 fencing_evidence=evidence)
    return time.time()


def execution_state(stack: Stack, execution_id: str) -> str | None:
    """The execution's state, None while Mistral has none."""
    assert stack.mistral is not None
    try:
        resp = requests.get(f"{stack.mistral.api_url}/executions/{execution_id}", timeout=30)
    except requests.RequestException:
        return None  # a busy API (rack failure on SQLite) is asked again, not a failure
    return str(resp.json()["state"]) if resp.status_code == 200 else None


def _first_evacuate(stack: Stack, vm_ids: set[str], since: float) -> float | None:
    """When Nova accepted the first evacuate of ``vm_ids`` sent after ``since``."""
    assert stack.simulator is not None
    for entry in stack.simulator.control.requests()["entries"]:
        # VMs evacuated here by an earlier incident have older evacuate entries
        if entry.get("action") == "evacuate" and entry["status"] < 300 and float(
                entry["time"]) >= since and any(vm in entry["path"] for vm in vm_ids):
            return float(entry["time"]) + float(entry["duration"])
    return None


def run_recovery(workdir: Path, n: int, latency: float, concurrency: int,
                 timeout: float = 1800.0, db: str = "sqlite",
                 mistral_config: dict[str, dict[str, str]] | None = None,
                 mistral_executors: int = 0) -> dict[str, Any]:
    """One host of ``n`` VMs; P2 seconds, P3 latencies and request counts.

    ``db``: "sqlite" is the embedded stack (Mistral's services as threads of one process);
    "postgres" the production topology (harness.topology: PostgreSQL, Mistral's engines and
    executors as separate processes, a 3-node RabbitMQ cluster with quorum queues).
    """
    opts = options(n, latency, concurrency)
    opts.mistral_config = mistral_config or {}
    opts.mistral_executors = mistral_executors if db == "sqlite" else 0
    topology = ProdTopology if db == "postgres" else Stack
    with topology(workdir, opts) as stack:
        assert stack.simulator is not None
        control = stack.simulator.control
        before = evacuable(control.servers(HOST))
        control.clear_requests()
        cpu_before = cpu_seconds(stack)
        failed_at = time.time()
        control.fail_host(HOST, immediate=True)
        incident = f"bench-{int(failed_at * 1000)}"
        publish(stack, HOST, incident)
        wait_until(lambda: execution_state(stack, incident) in DONE, timeout, "incident end",
                   0.2)
        ended = time.time()
        cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_seconds(stack).items()}
        state = execution_state(stack, incident)
        save(workdir, control.requests()["entries"], control.notifications()["recent"])
        result = {"seconds": ended - failed_at, "state": state, "evacuable": len(before),
                  "restored": restored(stack.simulator, before),
                  "requests": request_counts(stack.simulator),
                  "confirm_ms": confirmation_latencies(stack),
                  # CPU seconds the recovery cost each component: on 2 cores a saturated
                  # Mistral is the throughput limit, and CPU is steadier than wall time
                  "cpu_s": {k: round(v, 2) for k, v in cpu.items()}}
        return result


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """User + system CPU seconds so far of Mistral's processes and of the listeners."""
    mistral = getattr(stack, "mistral_cluster", None)
    if mistral is not None:
        mistral_pids = mistral.pids()
    else:
        mistral_pids = [m.pid for m in [stack.mistral, *stack.mistral_executors]
                        if m is not None and m.pid is not None]
    listener_pids = [lst.proc.pid for lst in stack.listeners if lst.proc is not None]
    return {"mistral": sum(_cpu(pid) for pid in mistral_pids),
            "listeners": sum(_cpu(pid) for pid in listener_pids)}


def _cpu(pid: int) -> float:
    try:
        # fields after the command's closing parenthesis: utime and stime are 12th and 13th
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def accepted_at(stack: Stack, incident: str, since: list[int] | None = None) -> float | None:
    """When a listener logged that Mistral accepted ``incident`` (its POST returned);
    ``since``: the listeners' log sizes before it was published (only the rest is read)."""
    offsets = since or [0] * len(stack.listeners)
    for listener, offset in zip(stack.listeners, offsets, strict=True):
        for line in listener.lines(rf"Recovery accepted for incident {re.escape(incident)} ",
                                   since=offset):
            return log_time(line)
    return None


def log_time(line: str) -> float:
    """The epoch time of an oslo.log line (``2026-12-08 03:00:00.123 ...``, local time)."""
    words = line.split()
    return time.mktime(time.strptime(f"{words[0]} {words[1][:8]}", "%Y-%m-%d %H:%M:%S")) \
        + float(f"0.{words[1][9:]}")


def confirmation_latencies(stack: Stack) -> list[float]:
    """rebuild.end sent by the simulator → listener completed the wait, in ms, per VM."""
    assert stack.simulator is not None
    sent = {r["instance_uuid"]: float(r["time"])
            for r in stack.simulator.control.notifications()["recent"]
            if r["event_type"] == "instance.rebuild.end"}
    found = []
    for listener in stack.listeners:
        for line in listener.lines(r"completed by instance\.rebuild\.end"):
            words = line.split()
            vm = words[words.index("instance") + 1]
            if vm in sent:
                found.append(1000 * (log_time(line) - sent[vm]))
    return sorted(found)


def run_incidents(workdir: Path, count: int, timeout: float = 120.0
                  ) -> tuple[list[float], list[float]]:
    """P1 over ``count`` incidents: (published → execution, published → first evacuate) ms."""
    opts = options(2, 0.2, 10, hosts=count + 2,
                   states={"active": 1.0}, server_groups=[],
                   metadata=[{"weight": 1.0, "metadata": {}}])
    to_execution, to_evacuate = [], []
    with Stack(workdir, opts) as stack:
        assert stack.simulator is not None
        control = stack.simulator.control
        for number in range(1, count + 1):
            host = f"compute{number}"
            vm_ids = {vm["id"] for vm in control.servers(host)}
            # the first evacuate is looked for every 50 ms in the simulator's request log:
            # one incident's entries, not every incident's so far (that read grew to MBs)
            control.clear_requests()
            failed_at = time.time()
            control.fail_host(host, immediate=True)
            incident = f"p1-{number}-{int(failed_at)}"
            sizes = [listener.size() for listener in stack.listeners]
            published = publish(stack, host, incident)
            # the listener logs the moment Mistral's POST returned; polling Mistral's API
            # every 5 ms instead loaded the one process that creates the execution. Each
            # 10 ms poll reads only what the listeners logged since the publish
            wait_until(lambda i=incident, s=sizes: accepted_at(  # type: ignore[misc]
                stack, i, s) is not None, timeout, "execution created", 0.01)
            to_execution.append(1000 * (float(accepted_at(stack, incident, sizes) or 0)
                                        - published))
            wait_until(lambda v=vm_ids, t=failed_at: _first_evacuate(stack, v, t)  # type: ignore[misc]
                       is not None, timeout, "first evacuate", 0.05)
            to_evacuate.append(1000 * (float(_first_evacuate(stack, vm_ids, failed_at) or 0)
                                       - published))
    return sorted(to_execution), sorted(to_evacuate)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def largest_field_kb(db: Path) -> float:
    """The largest text/blob value Mistral stored (its default field limit is 1 MB)."""
    with sqlite3.connect(db) as conn:
        largest = 0
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for column in conn.execute(f"PRAGMA table_info('{table}')").fetchall():
                if column[2].upper() in ("TEXT", "BLOB", "") or "CHAR" in column[2].upper():
                    # names come from sqlite_master of Mistral's own schema
                    row = conn.execute(f'SELECT max(length("{column[1]}")) '  # noqa: S608
                                       f'FROM "{table}"').fetchone()
                    largest = max(largest, int(row[0] or 0))
    return largest / 1024


def run_rack(workdir: Path, hosts: int, per_host: int, latency: float, concurrency: int,
             timeout: float = 3600.0) -> dict[str, Any]:
    """P5: ``hosts`` hosts of ``per_host`` VMs fail at once."""
    with Stack(workdir, options(per_host, latency, concurrency, hosts=hosts * 2)) as stack:
        assert stack.simulator is not None and stack.mistral is not None
        control = stack.simulator.control
        failing = [f"compute{i + 1}" for i in range(hosts)]
        vms = sum(len(evacuable(control.servers(h))) for h in failing)
        failed_at = time.time()
        incidents = []
        for host in failing:
            control.fail_host(host, immediate=True)
            incidents.append(f"p5-{host}-{int(failed_at)}")
            publish(stack, host, incidents[-1])
        wait_until(lambda: all(execution_state(stack, i) in DONE for i in incidents),
                   timeout, "every incident ended", 1.0)
        proc = stack.mistral._proc  # peak RSS needs the pid; the harness keeps it private
        return {"vms": vms, "total_s": time.time() - failed_at,
                "listener_rss_mb": max(_peak_rss_mb(lst.proc.pid) for lst in stack.listeners
                                       if lst.proc is not None),
                "mistral_rss_mb": _peak_rss_mb(proc.pid) if proc is not None else 0.0,
                "largest_field_kb": largest_field_kb(stack.mistral.workdir /
                                                     "mistral.sqlite")}


def percentiles(values: list[float]) -> dict[str, float | None]:
    """{"p50", "p99"} (None when empty)."""
    if not values:
        return {"p50": None, "p99": None}
    ordered = sorted(values)
    # nearest rank: with few samples p99 is the largest, never below p50
    return {"p50": statistics.median(ordered),
            "p99": ordered[min(len(ordered), math.ceil(0.99 * len(ordered))) - 1]}
