"""Failover-capacity analysis at scale: ``python -m bench capacity [--hosts N --vms-per-host M]``.

Starts a simulator of N hosts x M VMs and runs the action pack's own capacity code
in-process (``failover.analyse``: what ``host-recovery capacity`` and the listener's refresher
run in Mistral) several times: the first read lists every server, later ones only what changed
(Nova's ``changes-since``); between two reads a few VMs are stopped so the incremental read
has something to find. The rounds start once the read's margin (60 s) has passed since the
simulator built its servers, as in a cloud at rest.
Prints read and plan seconds per round and the CPU seconds of our process and of the
simulator (Nova's share: building the pages) during each; writes
``bench-results/capacity-<time>.json``.
Measurements, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.listener import write_ini
from harness.simulator import SimulatorProcess

RESULTS = Path(__file__).resolve().parents[2] / "bench-results"


def _actions_config(path: Path, sim: SimulatorProcess, full_every: float) -> Path:
    creds = sim.credentials()
    write_ini(path, {
        "nova": {"auth_type": "password", "auth_url": creds["auth_url"],
                 "username": creds["username"], "password": creds["password"],
                 "project_name": creds["project_name"],
                 "user_domain_name": creds["user_domain_name"],
                 "project_domain_name": creds["project_domain_name"],
                 "interface": "public", "api_version": "2.96"},
        "recovery": {"capacity_full_read_interval": str(full_every)}})
    return path


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # utime and stime are fields 14 and 15 of proc(5), 12 and 13 after the command name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _round(conf: Any, label: str, simulator_pid: int | None) -> dict[str, Any]:
    from host_recovery_actions import failover, runtime

    ours, nova = time.process_time(), _cpu_seconds(simulator_pid)
    report = failover.analyse(runtime.cached_nova(conf), conf)
    # the split of the analysis's time: Nova's listing (the simulator building the pages)
    # against our own reading and planning, on the same two cores
    ours, nova = time.process_time() - ours, _cpu_seconds(simulator_pid) - nova
    return {"round": label, "read_s": report["read_seconds"],
            "ours_cpu_s": round(ours, 2), "simulator_cpu_s": round(nova, 2),
            "plan_s": report["plan_seconds"],
            "total_s": round(report["read_seconds"] + report["plan_seconds"], 2),
            "hosts": len(report["hosts"]), "vms": report["vms"],
            "n_plus_1": bool(report["cloud"]["n_plus_1"])}


def _stop_some(session: Any, compute_url: str, host: str, count: int = 20) -> int:
    """Stop up to ``count`` ACTIVE VMs of ``host``: changes for the next incremental read."""
    headers = {"OpenStack-API-Version": "compute 2.96"}
    servers = session.get(f"{compute_url}/servers/detail?all_tenants=1&host={host}",
                          headers=headers).json()["servers"]
    stopped = 0
    for server in [s for s in servers if s["status"] == "ACTIVE"][:count]:
        session.post(f"{compute_url}/servers/{server['id']}/action", json={"os-stop": None},
                     headers=headers)
        stopped += 1
    return stopped


def run(workdir: Path, hosts: int, per_host: int, rounds: int, full_every: float
        ) -> list[dict[str, Any]]:
    """Start the cloud, then ``rounds`` analyses (the first a full read)."""
    from host_recovery_actions import config, server_index

    sim = SimulatorProcess(workdir / "sim", scenario={
        "hosts": hosts, "vms_per_host": per_host, "host_vcpus": 128, "host_ram_mb": 524_288,
        "latency": {"kind": "fixed", "value": 0.05},
        "power_latency": {"kind": "fixed", "value": 0.01}})
    sim.start(timeout=600)
    built = time.monotonic()
    try:
        conf = config.load(str(_actions_config(workdir / "actions.conf", sim, full_every)))
        session = sim.keystone_session()
        # the simulator builds every server now; in a cloud at rest they changed long ago:
        # wait out the incremental read's margin so it sees only what the rounds change
        time.sleep(max(0.0, server_index.MARGIN.total_seconds() + 1 - (time.monotonic() -
                                                                      built)))
        rows = []
        for index in range(rounds):
            changed = _stop_some(session, sim.compute_url, f"compute{index}") if index else 0
            row = _round(conf, "full" if index == 0 else f"incremental {index}", sim.pid)
            rows.append(dict(row, changed_before=changed))
        return rows
    finally:
        sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the rounds, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="bench capacity", description=__doc__)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms-per-host", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--full-read-interval", type=float, default=900.0,
                        help="[recovery] capacity_full_read_interval for the run (0: always "
                        "read every server)")
    parser.add_argument("--smoke", action="store_true", help="50 hosts x 10 VMs, 2 rounds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.hosts, args.vms_per_host, args.rounds = 50, 10, 2
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as tmp:
        rows = run(Path(tmp), args.hosts, args.vms_per_host, args.rounds,
                   args.full_read_interval)
    print(f"\nCapacity analysis ({args.hosts} hosts x {args.vms_per_host} VMs, in-process, "
          "simulator on the same 2 cores)")
    print(f"{'round':16} {'changed':>8} {'read s':>7} {'plan s':>7} {'total s':>8} "
          f"{'ours cpu':>9} {'Nova cpu':>9} {'hosts':>6} {'VMs':>7} {'N+1':>4}")
    for row in rows:
        print(f"{row['round']:16} {row['changed_before']:8d} {row['read_s']:7.2f} "
              f"{row['plan_s']:7.2f} {row['total_s']:8.2f} {row['ours_cpu_s']:9.2f} "
              f"{row['simulator_cpu_s']:9.2f} {row['hosts']:6d} {row['vms']:7d} "
              f"{'yes' if row['n_plus_1'] else 'no':>4}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"capacity-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"hosts": args.hosts, "vms_per_host": args.vms_per_host,
                               "full_read_interval": args.full_read_interval,
                               "rounds": rows}, indent=2))
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
