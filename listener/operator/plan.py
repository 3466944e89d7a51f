"""``host-recovery plan HOST``: what the recovery would do if HOST failed now.

Runs the action pack's ``host_recovery.plan`` ad hoc in Mistral with ``preview`` (Nova and
Placement credentials live only on Mistral's side): which VMs, in which order and tier,
each VM's planned target (first-fit-decreasing against Placement's free capacity, zones,
server groups, host policy targets), what would wait for capacity and what is skipped, with
the reason, and which reserved hosts (host policy ``reserved_hosts``) the recovery would
enable for VMs that fit nowhere else. The recovery evacuates each VM to the same planned host.
"""

from __future__ import annotations

import argparse
import json
import uuid
from typing import Any

from oslo_config import cfg

from listener.mistral_api import MistralAPI
from notifications.contract import MistralError

PLAN_ACTION = "host_recovery.plan"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan", help="what the recovery would do if HOST failed now (targets, tiers, waits)")
    parser.add_argument("host", help="compute host name (as Nova names it)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.set_defaults(func=run)


def rows(plan: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per VM: order, tier, priority, name, id, target or what happens instead."""
    found: list[tuple[str, ...]] = []
    order = list(plan.get("instances") or []) + list(plan.get("pending") or [])
    for index, vm in enumerate(order, 1):
        found.append((str(index), str(vm.get("tier", 0)), str(vm.get("priority")),
                      str(vm.get("name")), str(vm.get("id")),
                      str(vm.get("target_host") or "(Nova's scheduler)")))
    for vm in plan.get("waiting") or []:
        found.append(("-", str(vm.get("tier", 0)), str(vm.get("priority")), str(vm.get("name")),
                      str(vm.get("id")), f"waiting_for_capacity: {vm.get('waiting_reason')}"))
    for vm in plan.get("skipped") or []:
        found.append(("-", "-", "-", str(vm.get("name")), str(vm.get("id")),
                      f"skipped: {vm.get('reason')}"))
    return found


def render(host: str, plan: dict[str, Any]) -> str:
    """The plan as a table with a one-line summary."""
    moved = len(plan.get("instances") or []) + len(plan.get("pending") or [])
    lines = [f"{host}: {moved} VMs would be evacuated, {len(plan.get('waiting') or [])} "
             f"would wait for capacity, {len(plan.get('skipped') or [])} skipped"]
    if not plan.get("capacity_plan", True):
        lines.append("  (Placement unreadable: targets left to Nova's scheduler)")
    table = [("#", "tier", "prio", "name", "id", "target"), *rows(plan)]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    for row in table:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True))
                     + "  " + row[5])
    for text in plan.get("violations") or []:
        lines.append(f"  soft policy not kept: {text}")
    # a preview enables nothing: these are the reserved hosts the recovery would enable
    for entry in plan.get("reserved_would_enable") or []:
        lines.append(f"  reserved host {entry.get('host')} would be enabled: "
                     f"{entry.get('reason')}")
    for entry in plan.get("reserved_skipped") or []:
        lines.append(f"  reserved host {entry.get('host')} would not be enabled: "
                     f"{entry.get('reason')}")
    return "\n".join(lines)


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    try:
        plan = MistralAPI.from_conf(conf).run_action(PLAN_ACTION, {
            "incident_id": f"preview-{uuid.uuid4()}", "host": args.host, "preview": True})
    except MistralError as exc:
        print(f"failed: {exc}")
        return 1
    plan = plan if isinstance(plan, dict) else {}
    if args.json:
        keep = ("instances", "pending", "waiting", "skipped", "violations", "capacity_plan",
                "host_policy", "concurrency", "reserved_would_enable", "reserved_skipped")
        print(json.dumps({k: plan.get(k) for k in keep}, indent=2, sort_keys=True))
    else:
        print(render(args.host, plan))
    return 0
