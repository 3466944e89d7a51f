"""``host-recovery capacity``: can the cloud absorb the loss of each host (N+1), per host,
aggregate and availability zone, the largest host loss it can absorb and the headroom left.

Runs the action pack's ``host_recovery.capacity`` ad hoc in Mistral (credentials live on
Mistral's side); the same planner as the recovery decides (first-fit-decreasing against
Placement's free capacity, AZ-pinned VMs in their zone, hard server groups).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from oslo_config import cfg

from listener.mistral_api import MistralAPI
from notifications.contract import MistralError

CAPACITY_ACTION = "host_recovery.capacity"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "capacity", help="failover capacity: N+1 per host, aggregate and zone, headroom")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--all", action="store_true",
                        help="list every host (default: only those that cannot be absorbed)")
    parser.set_defaults(func=run)


def samples(report: dict[str, Any]) -> list[tuple[str, dict[str, str], float]]:
    """The report as gauge samples ``(name, labels, value)`` for the exporter
    (``host_recovery_failover_capacity_*``; alert rules in etc/prometheus)."""
    prefix = "host_recovery_failover_capacity_"
    found: list[tuple[str, dict[str, str], float]] = []
    for host, entry in sorted((report.get("hosts") or {}).items()):
        labels = {"host": host, "zone": str(entry.get("zone"))}
        found.append((prefix + "absorbable", labels, float(bool(entry.get("absorbable")))))
        found.append((prefix + "waiting_vms", {"host": host},
                      float(entry.get("not_placed") or 0)))
        found.append((prefix + "reserved_needed", {"host": host},
                      float(len(entry.get("reserved_needed") or []))))
    scopes = [("cloud", "cloud", report.get("cloud") or {})]
    scopes += [("zone", n, s) for n, s in sorted((report.get("zones") or {}).items())]
    scopes += [("aggregate", n, s) for n, s in sorted((report.get("aggregates") or {}).items())]
    resources = report.get("resources") or ["VCPU", "MEMORY_MB", "DISK_GB"]
    for scope, name, summary in scopes:
        labels = {"scope": scope, "name": name}
        found.append((prefix + "n_plus_1", labels, float(bool(summary.get("n_plus_1")))))
        for resource, value in zip(resources, summary.get("headroom") or [], strict=False):
            found.append((prefix + "headroom", dict(labels, resource=resource), float(value)))
    return found


def _set(name: str, summary: dict[str, Any]) -> str:
    ok = "yes" if summary.get("n_plus_1") else "NO"
    room = summary.get("headroom") or [0, 0, 0]
    return (f"  {name:<24} hosts {summary.get('hosts', 0):>5}  N+1 {ok:<3}  largest "
            f"absorbable {summary.get('largest_absorbable') or '-':<20} headroom "
            f"VCPU {room[0]:g}, MEMORY_MB {room[1]:g}, DISK_GB {room[2]:g}")


def render(report: dict[str, Any], every: bool = False) -> str:
    """Cloud, zones and aggregates, then the hosts whose loss cannot be absorbed or needs
    reserved hosts enabled."""
    lines = [f"{len(report.get('hosts') or {})} usable hosts, {report.get('vms', 0)} VMs "
             f"(read {report.get('read_seconds')} s, servers {report.get('servers_read')}, "
             f"planned {report.get('plan_seconds')} s)",
             _set("cloud", report.get("cloud") or {})]
    lines += [_set(f"zone {n}", s) for n, s in sorted((report.get("zones") or {}).items())]
    lines += [_set(f"aggregate {n}", s)
              for n, s in sorted((report.get("aggregates") or {}).items())]
    for name, host in sorted((report.get("hosts") or {}).items()):
        spares = ", ".join(host.get("reserved_needed") or [])
        if every or not host.get("absorbable") or spares:
            verdict = "absorbable" if host.get("absorbable") else \
                f"NOT absorbable: {host.get('not_placed')} of {host.get('vms')} VMs would " \
                f"wait ({host.get('reason')})"
            if spares:
                verdict += f", with reserved hosts enabled: {spares}"
            lines.append(f"  host {name} ({host.get('zone')}): {verdict}")
    return "\n".join(lines)


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    try:
        report = MistralAPI.from_conf(conf).run_action(CAPACITY_ACTION, {})
    except MistralError as exc:
        print(f"failed: {exc}")
        return 1
    report = report if isinstance(report, dict) else {}
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(render(report, args.all))
    return 0 if (report.get("cloud") or {}).get("n_plus_1") else 2
