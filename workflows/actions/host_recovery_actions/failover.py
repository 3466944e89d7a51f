"""``host_recovery.capacity``: the cloud's failover capacity (N+1 per host, aggregate and
availability zone) from Placement's free capacity and every server's flavor, for
``host-recovery capacity`` and the exporter (Nova and Placement credentials live only on
Mistral's side, so the operator CLI runs this action ad hoc).

Reads: services, aggregates, one allocation-candidates request, servers at 2.96 (flavor
embedded, pinned zone) page by page, server groups. Servers come from the process's
``server_index``: every one on the first read, then only those Nova says changed since
(``[recovery] capacity_full_read_interval`` bounds how long between two full reads). Per
server the instance policy decides
from metadata and flavor (image properties are not read: one Glance call per VM would not
scale); a VM the policy would skip does not count.
"""

from __future__ import annotations

import time
from typing import Any

from oslo_log import log as logging

from . import (
    gc_pause,
    headroom,
    host_policy,
    placing,
    policy,
    reserved,
    runtime,
    server_index,
    snapshot,
)
from . import plan as plan_module
from .base import Action
from .capacity import Group, Vm
from .placement import PlacementClient

LOG = logging.getLogger(__name__)
HOST = "OS-EXT-SRV-ATTR:host"


def cloud_model(nova: Any, conf: Any) -> dict[str, Any]:
    """Hosts, VMs by host, groups and aggregates as the planner sees them now."""
    client = PlacementClient.from_nova(nova, conf)
    aggregates = nova.aggregates()
    hosts = snapshot.host_model(nova.compute_services(), client.free(),
                                snapshot.zones(aggregates))
    rules = plan_module.rules_from(conf)
    vms_by_host: dict[str, list[Vm]] = {}
    index = server_index.for_facade(nova)
    for server in index.servers(client, float(conf.recovery.capacity_full_read_interval)):
        decision = policy.decide_instance(server, dict((server.get("flavor") or {}).get(
            "extra_specs") or {}), {}, rules)
        if decision.action == "skip":
            continue
        vms_by_host.setdefault(str(server.get(HOST)), []).append(snapshot.vm_model(
            server, decision.priority, server.get("pinned_availability_zone")))
    raw_groups = client.server_groups()
    member_of = {str(m): str(g["id"]) for g in raw_groups for m in g.get("members") or []}
    groups = {str(g["id"]): Group(id=str(g["id"]), policy=str(
        g.get("policy") or (g.get("policies") or [""])[0])) for g in raw_groups}
    for vms in vms_by_host.values():
        for vm in vms:
            vm.group = member_of.get(vm.id)
    return {"hosts": hosts, "vms_by_host": vms_by_host, "groups": groups,
            "member_of": member_of, "servers_read": index.last_read,
            "targets": targets_by_host([h.name for h in hosts], conf, aggregates),
            "aggregates": {str(a.get("name")): list(a.get("hosts") or []) for a in aggregates}}


def analyse(nova: Any, conf: Any) -> dict[str, Any]:
    """``headroom.analyse``'s report for the cloud now, plus ``read_seconds``,
    ``plan_seconds``, ``servers_read`` and ``vms`` (the collector paused: gc_pause)."""
    with gc_pause.paused():
        started = time.monotonic()
        model = cloud_model(nova, conf)
        read = time.monotonic() - started
        report = headroom.analyse(model["hosts"], model["vms_by_host"], model["groups"],
                                  model["member_of"], model["aggregates"], model["targets"])
    report.update(read_seconds=round(read, 2), servers_read=model["servers_read"],
                  plan_seconds=round(time.monotonic() - started - read, 2),
                  vms=sum(len(v) for v in model["vms_by_host"].values()))
    return report


def targets_by_host(names: list[str], conf: Any, aggregates: list[dict[str, Any]]
                    ) -> dict[str, headroom.Targets]:
    """Each host's policy target hosts and reserved hosts, for the hosts whose policy names
    any (the file, then aggregate metadata: as the recovery resolves it)."""
    rules = host_policy.load_rules(conf.policy.host_policy_file)
    found: dict[str, headroom.Targets] = {}
    for name in names:
        hp = policy.resolve_host_policy(name, rules, aggregates)
        allowed = placing.allowed_targets(hp, aggregates)
        spares = [h for h in reserved.names(hp, aggregates) if h != name]
        if allowed is not None or spares:
            found[name] = headroom.Targets(allowed, spares)
    return found


class CapacityAction(Action):
    """Output: ``analyse``'s report."""

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        report = analyse(rt.nova, rt.conf)
        LOG.info("capacity: %d hosts, %d VMs, n+1 %s (read %.2f s, servers %s, plan %.2f s)",
                 len(report["hosts"]), report["vms"], report["cloud"]["n_plus_1"],
                 report["read_seconds"], report["servers_read"], report["plan_seconds"])
        return report
