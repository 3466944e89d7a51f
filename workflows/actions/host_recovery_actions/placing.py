"""Targets for a failed host's VMs, read from Nova and Placement now (``plan`` and
``next_round`` use it; ``capacity.assign`` decides).

Each planned VM item carries what the planner needs again in a later round (``demand``,
``pinned_zone``), so a re-plan reads Placement, services and groups, not every flavor.

A round: the VMs that fit, highest tier first (``tier``: bands of the priority); with
ordered tiers only the highest tier present runs now and the other placed VMs are
``pending``; VMs that fit nowhere wait (``waiting``, with the reason) and are never sent to
Nova.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oslo_log import log as logging

from . import capacity, policy, snapshot
from .nova import NovaError, NovaUnavailable
from .placement import PlacementClient

LOG = logging.getLogger(__name__)
HOST = "OS-EXT-SRV-ATTR:host"
# (targets, unplaced reasons, soft-policy violations), each keyed by VM id
Placed = tuple[dict[str, str], dict[str, str], list[str]]


def pinned_zones(nova: Any, conf: Any, host: str) -> dict[str, str]:
    """Server id -> pinned availability zone (2.96+; an older Nova: none known)."""
    try:
        servers = PlacementClient.from_nova(nova, conf).servers(host)
    except (NovaError, NovaUnavailable):
        return {}
    return {str(s["id"]): str(s["pinned_availability_zone"]) for s in servers
            if s.get("pinned_availability_zone")}


def hosts_of(names: list[str], aggregate: str | None, aggregates: list[dict[str, Any]]
             ) -> list[str] | None:
    """``names``, else the hosts of the aggregate named ``aggregate`` ([] when it does not
    exist); None when neither is set."""
    if names:
        return list(dict.fromkeys(names))
    if aggregate:
        for agg in aggregates:
            if agg.get("name") == aggregate:
                return list(agg.get("hosts") or [])
        return []
    return None


def allowed_targets(hp: policy.HostPolicy, aggregates: list[dict[str, Any]]
                    ) -> list[str] | None:
    """The host policy's target hosts (or its target aggregate's hosts); None: any host."""
    return hosts_of(hp.target_hosts, hp.target_aggregate, aggregates)


@dataclass
class Model:
    """What the planner needs, read once: every compute host (usable or why not), the VMs
    to place, their server groups, and the services and free capacity it came from."""

    hosts: list[capacity.Host]
    vms: list[capacity.Vm]
    groups: dict[str, capacity.Group]
    services: list[dict[str, Any]]
    free: dict[str, tuple[float, float, float]]

    def assign(self) -> Placed:
        result = capacity.assign(self.vms, self.hosts, self.groups)
        return result.targets, result.unplaced, result.violations


def read(nova: Any, conf: Any, source: str, items: list[dict[str, Any]],
         allowed: list[str] | None, aggregates: list[dict[str, Any]]) -> Model | None:
    """The planner's model for ``items``; None when Placement cannot be read (the caller
    falls back to Nova's scheduler)."""
    try:
        client = PlacementClient.from_nova(nova, conf)
        free = client.free()
        raw_groups = client.server_groups()
    except (NovaError, NovaUnavailable) as exc:
        LOG.warning("host %s: Placement or server groups unreadable, no capacity plan: %s",
                    source, exc)
        return None
    services = nova.compute_services()
    hosts = snapshot.host_model(services, free, snapshot.zones(aggregates), source, allowed)
    ids = {str(item["id"]) for item in items}

    def host_of(server_id: str) -> str | None:
        try:
            return str(nova.server(server_id).get(HOST) or "") or None
        except NovaError:  # deleted meanwhile
            return None

    groups, member_of = snapshot.group_model(raw_groups, ids, host_of)
    vms = [capacity.Vm(id=str(item["id"]), name=str(item.get("name") or item["id"]),
                       demand=tuple(item["demand"]),
                       priority=int(item.get("priority") or 0),
                       zone=item.get("pinned_zone"), group=member_of.get(str(item["id"])))
           for item in items]
    return Model(hosts, vms, groups, services, free)


def place(nova: Any, conf: Any, source: str, items: list[dict[str, Any]],
          allowed: list[str] | None, aggregates: list[dict[str, Any]]) -> Placed | None:
    """(targets, unplaced reasons, soft-policy violations) for ``items``; None when
    Placement cannot be read."""
    model = read(nova, conf, source, items, allowed, aggregates)
    return None if model is None else model.assign()


def split(items: list[dict[str, Any]], placed: Placed | None, ordered_tiers: bool,
          fallback: list[str] | None = None) -> dict[str, Any]:
    """``{"instances", "pending", "waiting", "violations"}`` from a placement."""
    if placed is None:  # no capacity plan: the policy's targets in turn, or Nova's choice
        chosen = fallback or []
        run = [dict(item, target_host=chosen[index % len(chosen)] if chosen else None)
               for index, item in enumerate(policy.order(items))]
        return {"instances": run, "pending": [], "waiting": [], "violations": [],
                "capacity_plan": False}
    targets, unplaced, violations = placed
    run, waiting = [], []
    for item in policy.order(items):
        vm_id = str(item["id"])
        if vm_id in targets:
            run.append(dict(item, target_host=targets[vm_id], waiting_reason=None))
        else:
            waiting.append(dict(item, target_host=None, waiting_reason=unplaced.get(vm_id)))
    pending: list[dict[str, Any]] = []
    if ordered_tiers and run:
        top = min(int(i.get("tier") or 0) for i in run)
        pending = [i for i in run if int(i.get("tier") or 0) != top]
        run = [i for i in run if int(i.get("tier") or 0) == top]
    return {"instances": run, "pending": pending, "waiting": waiting,
            "violations": violations, "capacity_plan": True}
