"""The fault suites beyond R1/R3 (harness.faults), and the registry ``make soak`` reads.

    R2  one RabbitMQ node stopped mid-stream and started again, then the whole broker restarted
    R3b the engine SIGKILLed as it takes a start_task cast (a top-level task left IDLE)
    R4  the simulator injecting 5xx, slow responses, rebuild errors and no valid host
    R5  PostgreSQL restarted mid-recovery
    R6  a listener partitioned from the broker for 60 s (harness.tcp_proxy), then healed

Every suite returns a :class:`harness.faults.Trial`; add one to :data:`SUITES` (name ->
hosts per trial, function) and ``make soak SUITE=...`` runs it.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from harness.faults import FaultRunner, Trial, _first, _restart_listener
from harness.listener import BIN, write_ini
from harness.mistral import MistralServer
from harness.process import wait_until
from harness.tcp_proxy import TcpProxy
from listener import attempts

START_TASK = re.compile(r"Received RPC request 'start_task' \[task_ex_id=(\S+),")
# R4's rates: a fifth of Nova's answers are 5xx, a fifth slow; rebuilds fail, hosts run out
NOVA_FAULTS = {"http_5xx": 0.2, "slow": 0.2, "slow_seconds": 2.0, "rebuild_error": 0.15,
               "no_valid_host": 0.1}
PARTITION_S = 60.0


def stream(runner: FaultRunner, suite: str, count: int,
           fault: Callable[[], list[str] | None], allow_failed: bool = False) -> Trial:
    """Fail ``count`` hosts; publish their host-downs one after another while ``fault`` runs
    in a thread (it starts once Nova accepted the first host's first evacuate). What the
    fault returns are notes of the trial; a fault that raises makes the trial not clean."""
    names = runner.fresh_hosts(count)
    vms = {h: {vm["id"] for vm in runner.control.servers(h)} for h in names}
    trial = Trial(suite, names, vms=sum(len(v) for v in vms.values()))
    since = int(runner.control.requests(since=2**62)["summary"]["total"])
    for host in names:
        runner.control.fail_host(host, immediate=True)
    incidents = {names[0]: runner.topo.notify_host_down(names[0])}
    _first(lambda: next(iter(runner.control.server_actions("evacuate", since)), None), 120)
    began = time.monotonic()

    def run_fault() -> None:
        try:
            trial.notes.extend(fault() or [])
        except Exception as exc:  # reported in the trial, not only as a thread's traceback
            trial.fault_error = f"{exc!r}"[:300]
            trial.notes.append(f"the fault failed: {trial.fault_error}")

    worker = threading.Thread(target=run_fault, daemon=True)
    worker.start()
    for host in names[1:]:  # the rest of the stream, during the fault
        incidents[host] = runner.topo.notify_host_down(host)
    worker.join(600)
    fault_end = time.monotonic()
    at_end = int(runner.control.requests(since=2**62)["summary"]["total"])
    ended_event = threading.Event()
    resumed = threading.Thread(target=_resume, daemon=True, args=(
        runner, at_end, fault_end, trial, set().union(*vms.values()), ended_event))
    resumed.start()
    ended = runner.wait_ended(incidents)
    trial.finish_s = time.monotonic() - fault_end
    ended_event.set()
    resumed.join(5)
    trial.notes.append(f"fault lasted {fault_end - began:.1f} s")
    runner.count(trial, incidents, ended, vms, since, allow_failed)
    return trial


def _resume(runner: FaultRunner, seq: int, fault_end: float, trial: Trial, vms: set[str],
            ended: threading.Event) -> None:
    """Time from the fault's end to the next evacuate of the trial's VMs Nova accepted (0 and
    a note: none came before the trial ended, all were sent during the fault)."""
    while not ended.is_set():
        if any(a["status"] < 300 and a["server_id"] in vms
               for a in runner.control.server_actions("evacuate", seq)):
            trial.resume_s = time.monotonic() - fault_end
            return
        ended.wait(0.5)  # a poll of the simulator's log every 0.5 s
    trial.notes.append("no evacuate after the fault")


def r2_node_stop(runner: FaultRunner) -> Trial:
    """Stop RabbitMQ node 2 mid-stream, publish while it is down, start it again."""
    node = runner.topo.cluster.nodes[1]

    def fault() -> None:
        node.stop()
        time.sleep(10)  # the fault's length: host-downs published meanwhile use nodes 1, 3
        node.start()

    return stream(runner, "R2", 3, fault)


def r2_broker_restart(runner: FaultRunner) -> Trial:
    """Restart every RabbitMQ node (full stop, all start together) mid-stream."""
    return stream(runner, "R2b", 2, runner.topo.cluster.restart)


def r5_postgres_restart(runner: FaultRunner) -> Trial:
    """Restart PostgreSQL once Nova accepted the first evacuate."""
    assert runner.topo.postgres is not None
    return stream(runner, "R5", 1, runner.topo.postgres.restart)


def r4_nova_faults(runner: FaultRunner) -> Trial:
    """Nova misbehaves for the whole trial: every VM ends evacuated or failed with Nova's
    reason; ``Trial.requests`` counts what we sent (no retry storm)."""
    runner.control.set_faults(**NOVA_FAULTS)
    try:
        return stream(runner, "R4", 2, lambda: None, allow_failed=True)
    finally:
        runner.control.set_faults(**{**dict.fromkeys(NOVA_FAULTS, 0.0), "slow_seconds": 1.0})


def r6_listener_partition(runner: FaultRunner, seconds: float = PARTITION_S) -> Trial:
    """Controller 3's listener reaches the broker only through a TCP proxy to node 1; the
    proxy black-holes everything for ``seconds`` mid-stream, then heals."""
    topo = runner.topo
    original = topo.listeners[-1]
    node = topo.cluster.nodes[0]
    proxy = TcpProxy(node.amqp_port).start()
    url = re.sub(r"@127\.0\.0\.1:\d+(,[^/]*)?/", f"@127.0.0.1:{proxy.port}/", topo.cloud_url)
    cut = topo.new_listener(f"{original.name}-partitioned", url)
    original.terminate()
    cut.start()

    def fault() -> None:
        proxy.partition()
        time.sleep(seconds)  # the partition's length
        proxy.heal()

    try:
        trial = stream(runner, "R6", 3, fault)
        handled = len(cut.lines("Host-down for incident"))
        trial.notes.append(f"the partitioned listener logged {handled} host-down(s)")
    finally:
        cut.terminate()
        proxy.stop()
        _restart_listener(original)
    return trial


def r3b_engine_kill_idle(runner: FaultRunner, stuck_after: int = 60) -> Trial:
    """SIGKILL the engine that logs the second start_task cast of a fresh incident (a
    top-level task, created IDLE, whose cast that engine acked). Nothing in Mistral 23
    restarts an IDLE task: ``host-recovery health`` reports the incident stuck after
    ``stuck_after``, the operator ends the execution and re-runs it (docs/operations.md)."""
    cluster = runner.topo.mistral_cluster
    assert cluster is not None
    engines = [cluster.process(f"engine-{n}") for n in (1, 2)]
    sizes = [_size(e.log_file) for e in engines]
    killed: list[int] = []

    def killer() -> None:
        seen = _first(lambda: _second_start(engines, sizes), 120)
        engines[seen].kill()
        killed.append(seen)

    host = runner.fresh_hosts(1)[0]
    vms = {host: {vm["id"] for vm in runner.control.servers(host)}}
    trial = Trial("R3b", [host], vms=len(vms[host]))
    since = int(runner.control.requests(since=2**62)["summary"]["total"])
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    runner.control.fail_host(host, immediate=True)
    incident = runner.topo.notify_host_down(host)
    thread.join(130)
    fault_at = time.monotonic()
    if killed:
        engines[killed[0]].start()
    execution = attempts.execution_id(incident, 1)
    idle = _idle_task(runner, execution)
    if idle:
        trial.notes.append(f"task {idle} left IDLE")
        detect = _health_names(runner, incident, stuck_after)
        trial.notes.append(f"health CRITICAL after {detect:.0f} s")
        requests.put(f"{cluster.api_url}/executions/{execution}",
                     json={"state": "ERROR"}, timeout=30).raise_for_status()
        runner.topo.operator("rerun", incident)
    else:
        trial.notes.append("the kill missed the IDLE window (the task had started)")
    ended = runner.wait_ended({host: incident})
    trial.finish_s = time.monotonic() - fault_at
    runner.count(trial, {host: incident}, ended, vms, since)
    return trial


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _second_start(engines: list[MistralServer], sizes: list[int]) -> int | None:
    """Index of the engine whose log holds the 2nd start_task line since ``sizes``."""
    found = 0
    for n, engine in enumerate(engines):
        with open(engine.log_file, "rb") as log:
            log.seek(sizes[n])
            found += len(START_TASK.findall(log.read().decode(errors="replace")))
        if found >= 2:
            return n
    return None


def _idle_task(runner: FaultRunner, execution: str, settle: float = 20.0) -> str | None:
    """The name of a top-level task still IDLE ``settle`` s from now; None once none is."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        tasks = runner.api.list_tasks(fields=["name", "state"], workflow_execution_id=execution)
        if not any(t.get("state") == "IDLE" for t in tasks):
            return None
        time.sleep(1)  # an IDLE task must stay IDLE for ``settle`` s to count
    return next(str(t["name"]) for t in tasks if t.get("state") == "IDLE")


def _health_names(runner: FaultRunner, incident: str, stuck_after: int) -> float:
    """Seconds until ``host-recovery health`` exits 2 naming ``incident`` as stuck."""
    topo = runner.topo
    assert topo.mistral is not None
    config = topo.workdir / "health.conf"
    write_ini(config, {"DEFAULT": {"transport_url": topo.cloud_url},
                       "mistral": {"auth_type": "none", "endpoint_override": topo.mistral.api_url},
                       "health": {"stuck_after": str(stuck_after)}})
    began = time.monotonic()

    def stuck() -> bool:
        done = subprocess.run([str(BIN / "host-recovery"), "--config-file", str(config),
                               "health"], capture_output=True, text=True, timeout=60,
                              check=False)
        return done.returncode == 2 and incident in done.stdout

    wait_until(stuck, stuck_after + 120, "health to report the incident stuck", interval=5)
    return time.monotonic() - began


# name -> (hosts one trial fails, the trial)
SUITES: dict[str, tuple[int, Callable[[FaultRunner, int], Trial]]] = {
    "R1": (2, lambda r, n: r.r1_listener_kill()),
    "R2": (3, lambda r, n: r2_node_stop(r)),
    "R2b": (2, lambda r, n: r2_broker_restart(r)),
    "R3": (1, lambda r, n: r.r3_engine_executor_kill(number=n % 2 + 1)),
    "R3b": (1, lambda r, n: r3b_engine_kill_idle(r)),
    "R4": (2, lambda r, n: r4_nova_faults(r)),
    "R5": (1, lambda r, n: r5_postgres_restart(r)),
    "R6": (3, lambda r, n: r6_listener_partition(r)),
}
