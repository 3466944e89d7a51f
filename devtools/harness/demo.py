"""The main job, end to end, on embedded defaults (``make demo``).

Starts a private RabbitMQ, the Nova + Keystone simulator, Mistral 23 with our workflow and
actions, two listeners and a single-node Pacemaker with our agents (etc/pcs/); fails a compute
host, records its fencing in Pacemaker, whose agents publish the host-down; shows the recovery
live (``host-recovery status --watch``) and a summary (also ``summary.json`` in the workdir).
Without Pacemaker (not root, not installed, already running) it says so and publishes with
``host-recovery-notify``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from harness import options
from harness.process import wait_until
from harness.stack import Stack
from listener.mistral_api import MistralAPI
from listener.status import Incident, collect

# VMs that fit nowhere wait [recovery] capacity_wait (1800 s by default) for room: far too
# long for a demo of a cloud too full to absorb a host
DEMO_CAPACITY_WAIT = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_arguments(parser)
    parser.add_argument("--host", default="compute1", help="the host to fail")
    parser.add_argument("--no-watch", dest="watch", action="store_false",
                        help="no live view: wait for the end, print the summary (scripts)")
    parser.add_argument("--capacity-wait", type=int, default=DEMO_CAPACITY_WAIT,
                        metavar="SECONDS",
                        help="[recovery] capacity_wait of this demo: how long VMs that fit "
                        f"nowhere wait for room (default {DEMO_CAPACITY_WAIT}; 1800 in "
                        "production)")


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when the incident ended done."""
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="host-recovery-demo-"))
    opts = options.stack_options(args)
    opts.actions.setdefault("recovery", {}).update(
        capacity_wait=args.capacity_wait, capacity_poll_interval=min(5, args.capacity_wait or 5))
    pacemaker = " and a single-node Pacemaker" if opts.pacemaker else ""
    print(f"Starting RabbitMQ, the simulator ({opts.hosts} hosts x {opts.vms_per_host} VMs), "
          f"Mistral, {opts.listeners} listeners{pacemaker} under {workdir} ...", flush=True)
    started = time.monotonic()
    with Stack(workdir, opts) as stack:
        assert stack.simulator is not None and stack.mistral is not None
        print(f"  ready in {time.monotonic() - started:.1f} s: Mistral {stack.mistral.api_url}, "
              f"Nova {stack.simulator.compute_url}", flush=True)
        if stack.trigger is not None:
            print("  Pacemaker: HostRecovery resource and alert agent from "
                  "etc/pcs/host-recovery.pcs.sh", flush=True)
        elif stack.trigger_note:
            print(f"  no Pacemaker ({stack.trigger_note}): the host-down goes through "
                  "host-recovery-notify", flush=True)
        before = stack.simulator.control.servers(args.host)
        states = Counter(str(vm.get("status")) for vm in before)
        print(f"\n{args.host} runs {len(before)} VMs ({_counts(states)}).")
        print(f"VMs that fit on no host wait {args.capacity_wait} s for capacity in this demo "
              "([recovery] capacity_wait; 1800 s by default), then end not_recovered, "
              "left as they were.")
        how = ("recording its fencing in Pacemaker (stonith_admin --confirm); our agents "
               "publish the host-down" if stack.trigger is not None else
               "publishing its host-down (fencing confirmed) with host-recovery-notify")
        print(f"Failing {args.host}, {how} ...", flush=True)
        failed_at = time.monotonic()
        incident_id = stack.fail_host(args.host)
        print(f"  incident {incident_id} confirmed by the broker after "
              f"{time.monotonic() - failed_at:.1f} s\n", flush=True)
        api = MistralAPI.from_url(stack.mistral.api_url)
        wait_until(lambda: bool(collect(api, incident=incident_id)), 60,
                   f"the execution of incident {incident_id}", interval=0.2)
        if args.watch:
            stack.operator("status", "--incident", incident_id, "--watch", "--interval", "1",
                           check=False, capture=False)
        incident = _final(api, incident_id)
        elapsed = time.monotonic() - failed_at
        print(flush=True)
        stack.operator("status", "--incident", incident_id, check=False, capture=False)
        summary = _summary(stack, incident, elapsed, len(before))
        (workdir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        return 0 if incident.state == "done" else 1


def _final(api: MistralAPI, incident_id: str) -> Incident:
    found: list[Incident] = []

    def ended() -> bool:
        found[:] = collect(api, incident=incident_id)
        return bool(found) and found[-1].state not in ("running", "held")

    wait_until(ended, 900, f"incident {incident_id} to end", interval=1.0)
    return found[-1]


def _summary(stack: Stack, incident: Incident, elapsed: float,
             vms: int) -> dict[str, object]:
    """Print the summary; return it for summary.json (counts, outcome, trigger, calls)."""
    assert stack.simulator is not None
    counts = incident.counts
    moved = [vm for vm in incident.vms if vm.result == "evacuated"]
    seconds = sorted(vm.seconds for vm in moved if vm.seconds is not None)
    requests = stack.simulator.control.requests().get("entries", [])
    calls = Counter(f"{r.get('method')} {_kind(str(r.get('path')))}" for r in requests)
    print("\nSummary")
    print(f"  incident     {incident.incident_id} ({incident.state}, outcome "
          f"{incident.outcome})")
    wait = stack.options.actions.get("recovery", {}).get("capacity_wait")
    print(f"  VMs          {counts['evacuated']} evacuated, {counts['failed']} failed, "
          f"{counts.get('not_recovered', 0)} not recovered (no room within {wait} s), "
          f"{counts['skipped']} skipped (by policy)")
    print(f"  wall time    {elapsed:.1f} s from host failure to the incident's end")
    if seconds:
        print(f"  per VM       median {seconds[len(seconds) // 2]:.1f} s, "
              f"max {seconds[-1]:.1f} s")
    total = sum(calls.values())
    print(f"  Nova calls   {total} ({total / max(vms, 1):.1f} per VM): " +
          ", ".join(f"{n} {what}" for what, n in calls.most_common(4)) + ", ...", flush=True)
    return {"incident": incident.incident_id, "state": incident.state,
            "outcome": incident.outcome, "vms": vms, "counts": dict(counts),
            "results": dict(Counter(str(vm.result) for vm in incident.vms)),
            "trigger": "pacemaker" if stack.trigger is not None else "host-recovery-notify",
            "trigger_note": stack.trigger_note, "nova_calls": total,
            "wall_time_s": round(elapsed, 1)}


def _kind(path: str) -> str:
    """/v2.1/servers/<uuid>/action -> /servers/{id}/action (for counting)."""
    plain = path.split("?", maxsplit=1)[0]
    parts = [("{id}" if len(p) >= 32 else p) for p in plain.split("/") if p]
    return "/" + "/".join(p for p in parts if not p.startswith("v2"))


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counter.most_common())
