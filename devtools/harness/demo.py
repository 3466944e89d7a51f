"""The main job, end to end, on embedded defaults (``make demo``).

Starts a private RabbitMQ, the Nova + Keystone simulator, Mistral 23 with our workflow and
actions, and two listeners; fails a compute host, publishes the host-down as the Pacemaker
agent would, shows the recovery live (``host-recovery status --watch``) and a summary.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from harness.process import wait_until
from harness.stack import Stack, StackOptions
from listener.mistral_api import MistralAPI
from listener.status import Incident, collect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hosts", type=int, default=4, help="compute hosts (default 4)")
    parser.add_argument("--vms-per-host", type=int, default=10, help="VMs per host")
    parser.add_argument("--listeners", type=int, default=2, help="controllers' listeners")
    parser.add_argument("--microversion", default="2.95", help="Nova API version pinned")
    parser.add_argument("--host", default="compute1", help="the host to fail")
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp dir)")


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when the incident ended done."""
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="host-recovery-demo-"))
    options = StackOptions(hosts=args.hosts, vms_per_host=args.vms_per_host,
                           listeners=args.listeners, microversion=args.microversion)
    print(f"Starting RabbitMQ, the simulator ({args.hosts} hosts x {args.vms_per_host} VMs), "
          f"Mistral and {args.listeners} listeners under {workdir} ...", flush=True)
    started = time.monotonic()
    with Stack(workdir, options) as stack:
        assert stack.simulator is not None and stack.mistral is not None
        print(f"  ready in {time.monotonic() - started:.1f} s: Mistral {stack.mistral.api_url}, "
              f"Nova {stack.simulator.compute_url}", flush=True)
        before = stack.simulator.control.servers(args.host)
        states = Counter(str(vm.get("status")) for vm in before)
        print(f"\n{args.host} runs {len(before)} VMs ({_counts(states)}).")
        print(f"Failing {args.host} and publishing its host-down (fencing confirmed) ...",
              flush=True)
        failed_at = time.monotonic()
        stack.simulator.control.fail_host(args.host, immediate=True)
        incident_id = stack.notify_host_down(args.host)
        print(f"  incident {incident_id} confirmed by the broker\n", flush=True)
        api = MistralAPI.from_url(stack.mistral.api_url)
        wait_until(lambda: bool(collect(api, incident=incident_id)), 60,
                   f"the execution of incident {incident_id}", interval=0.2)
        stack.operator("status", "--incident", incident_id, "--watch", "--interval", "1",
                       check=False, capture=False)
        incident = _final(api, incident_id)
        elapsed = time.monotonic() - failed_at
        print()
        stack.operator("status", "--incident", incident_id, check=False, capture=False)
        _summary(stack, incident, elapsed)
        return 0 if incident.state == "done" else 1


def _final(api: MistralAPI, incident_id: str) -> Incident:
    found: list[Incident] = []

    def ended() -> bool:
        found[:] = collect(api, incident=incident_id)
        return bool(found) and found[-1].state not in ("running", "held")

    wait_until(ended, 900, f"incident {incident_id} to end", interval=1.0)
    return found[-1]


def _summary(stack: Stack, incident: Incident, elapsed: float) -> None:
    assert stack.simulator is not None
    counts = incident.counts
    moved = [vm for vm in incident.vms if vm.result == "evacuated"]
    seconds = sorted(vm.seconds for vm in moved if vm.seconds is not None)
    requests = stack.simulator.control.requests().get("entries", [])
    calls = Counter(f"{r.get('method')} {_kind(str(r.get('path')))}" for r in requests)
    print("\nSummary")
    print(f"  incident     {incident.incident_id} ({incident.state}, outcome "
          f"{incident.outcome})")
    print(f"  VMs          {counts['evacuated']} evacuated, {counts['failed']} failed, "
          f"{counts['skipped']} skipped (by policy)")
    print(f"  wall time    {elapsed:.1f} s from host failure to the incident's end")
    if seconds:
        print(f"  per VM       median {seconds[len(seconds) // 2]:.1f} s, "
              f"max {seconds[-1]:.1f} s")
    print(f"  Nova calls   {sum(calls.values())}: " +
          ", ".join(f"{n} {what}" for what, n in calls.most_common(6)))


def _kind(path: str) -> str:
    """/v2.1/servers/<uuid>/action -> /servers/{id}/action (for counting)."""
    plain = path.split("?", maxsplit=1)[0]
    parts = [("{id}" if len(p) >= 32 else p) for p in plain.split("/") if p]
    return "/" + "/".join(p for p in parts if not p.startswith("v2"))


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counter.most_common())
