"""Failover capacity (N+1): can the cloud absorb the loss of each host, aggregate member and
availability zone's hosts, with the same planner the recovery runs (``capacity.assign``).

Pure. Usage::

    report = analyse(hosts, vms_by_host, groups, member_of, aggregates)
    report["hosts"]["compute3"]["absorbable"]

Per host: its VMs (those the policy would recover) placed on the other usable hosts' free
capacity (only its host policy's target hosts when it names some); AZ-pinned VMs stay in
their zone. When they do not all fit and its host policy names reserved hosts, they are
placed again with those reserved hosts that the recovery could enable (disabled, up, not
forced down: ``Targets``): ``reserved_needed`` lists the ones that would take VMs.
``largest_absorbable``: the host whose loss needs the most RAM among those the cloud can
absorb. ``headroom`` per zone: what stays free after absorbing the zone's worst absorbable
host loss (reserved hosts are disabled: not counted free).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .capacity import RESOURCES, Group, Host, Vm, assign, ranked

__all__ = ["Targets", "analyse"]


@dataclass
class Targets:
    """A host's policy as the analysis needs it: ``allowed`` target hosts (None: any) and
    its ``reserved`` hosts in the policy's order."""

    allowed: list[str] | None = None
    reserved: list[str] = field(default_factory=list)


def _need(vms: list[Vm]) -> list[float]:
    return [sum(v.demand[i] for v in vms) for i in range(len(RESOURCES))]


def _one_host(name: str, vms: list[Vm], hosts: list[Host], in_order: list[Host],
              groups: dict[str, Group], member_of: dict[str, str], where: dict[str, str],
              targets: Targets) -> dict[str, Any]:
    """The loss of ``name``: placed, not placed (with the first reason), reserved hosts
    it would need. ``in_order``: the usable hosts, ranked once for every loss."""
    allowed = None if targets.allowed is None else set(targets.allowed) | set(targets.reserved)

    def kept(h: Host) -> bool:
        return h.name != name and (allowed is None or h.name in allowed)

    mine = {v.id for v in vms}
    scoped: dict[str, Group] = {}
    for vm in vms:
        gid = member_of.get(vm.id)
        if gid and gid not in scoped:
            # the group's members on other hosts, where they run now
            scoped[gid] = Group(id=gid, policy=groups[gid].policy, hosts={
                where[m] for m, g in member_of.items() if g == gid and m not in mine
                and m in where})
    if allowed is None:
        others = [h for h in hosts if h.name != name]
        usable = [h for h in in_order if h.name != name]
    else:
        others = [h for h in hosts if kept(h)]
        usable = [h for h in in_order if kept(h)]
    # a subset of a ranked list is ranked: no sort per loss (1,000 losses of 1,000 hosts)
    result = assign(vms, others, scoped, in_order=usable)
    needed: list[str] = []
    if result.unplaced and targets.reserved:
        # as the recovery would: its reserved hosts enabled (only those it may enable)
        spare = {h.name: Host(h.name, h.free, h.zone) for h in others
                 if h.name in targets.reserved and h.why_not == "disabled"}
        if spare:
            with_spare = assign(vms, [spare.get(h.name, h) for h in others], scoped)
            if len(with_spare.unplaced) < len(result.unplaced):
                used = set(with_spare.targets.values())
                needed = [h for h in targets.reserved if h in spare and h in used]
                result = with_spare
    first = next(iter(result.unplaced.values()), None)
    return {"vms": len(vms), "need": _need(vms), "absorbable": not result.unplaced,
            "not_placed": len(result.unplaced), "reason": first, "reserved_needed": needed}


def analyse(hosts: list[Host], vms_by_host: dict[str, list[Vm]],
            groups: dict[str, Group] | None = None, member_of: dict[str, str] | None = None,
            aggregates: dict[str, list[str]] | None = None,
            targets: dict[str, Targets] | None = None) -> dict[str, Any]:
    """``{"hosts": {name: {...}}, "aggregates": {...}, "zones": {...}, "cloud": {...}}``;
    ``targets``: per host, its policy's target and reserved hosts (absent: any host, none)."""
    groups, member_of, targets = groups or {}, member_of or {}, targets or {}
    where = {vm.id: host for host, vms in vms_by_host.items() for vm in vms}
    in_order = ranked(hosts)
    per_host: dict[str, dict[str, Any]] = {}
    for host in hosts:
        if not host.usable:  # down or disabled: nothing left to lose, not a target
            continue
        vms = [v for v in vms_by_host.get(host.name, [])]
        per_host[host.name] = dict(_one_host(host.name, vms, hosts, in_order, groups,
                                             member_of, where,
                                             targets.get(host.name, Targets())),
                                   zone=host.zone)
    zones: dict[str, list[str]] = {}
    for host in hosts:
        zones.setdefault(host.zone, []).append(host.name)
    by_zone = {zone: _summary(names, per_host, hosts) for zone, names in sorted(zones.items())}
    by_agg = {name: _summary(members, per_host, hosts)
              for name, members in sorted((aggregates or {}).items())}
    cloud = _summary([h.name for h in hosts], per_host, hosts)
    return {"hosts": per_host, "zones": by_zone, "aggregates": by_agg, "cloud": cloud,
            "resources": list(RESOURCES)}


def _summary(names: list[str], per_host: dict[str, dict[str, Any]],
             hosts: list[Host]) -> dict[str, Any]:
    """N+1 of a set of hosts: every one absorbable, the largest absorbable loss, headroom."""
    members = [per_host[n] | {"name": n} for n in names if n in per_host]
    absorbable = [m for m in members if m["absorbable"]]
    largest = max(absorbable, key=lambda m: (m["need"][1], m["need"][0], m["name"]),
                  default=None)
    worst = max(members, key=lambda m: (m["need"][1], m["need"][0], m["name"]), default=None)
    wanted = set(names)
    free = [sum(h.free[i] for h in hosts if h.usable and h.name in wanted)
            for i in range(len(RESOURCES))]
    own = next((h.free for h in hosts if worst and h.name == worst["name"]), (0.0, 0.0, 0.0))
    # the worst loss takes its VMs' needs and its own free capacity away
    after = [f - n - o for f, n, o in zip(free, worst["need"], own, strict=True)] \
        if worst else free
    return {"hosts": len(members), "n_plus_1": bool(members) and len(absorbable) == len(members),
            "not_absorbable": sorted(m["name"] for m in members if not m["absorbable"]),
            "largest_absorbable": largest["name"] if largest else None,
            "largest_absorbable_need": largest["need"] if largest else None,
            "free": free, "headroom": after}
