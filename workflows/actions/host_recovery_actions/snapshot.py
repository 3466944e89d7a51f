"""Nova and Placement answers turned into the capacity model (``capacity.Host``/``Vm``/
``Group``): pure functions, so the workflow's plan and the operator CLI build the same model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .capacity import Group, Host, Vm

__all__ = ["demand", "group_model", "host_model", "vm_model", "zones"]

HOST = "OS-EXT-SRV-ATTR:host"


def demand(server: dict[str, Any]) -> tuple[float, float, float]:
    """What the server's flavor asks of Placement (Nova's resources_from_flavor: swap MB
    rounded up to GB and added to DISK_GB). From 2.47 the flavor is embedded."""
    flavor = server.get("flavor") or {}
    swap = int(flavor.get("swap") or 0)
    disk = int(flavor.get("disk") or 0) + int(flavor.get("ephemeral") or 0) + -(-swap // 1024)
    return float(flavor.get("vcpus") or 0), float(flavor.get("ram") or 0), float(disk)


def zones(aggregates: list[dict[str, Any]]) -> dict[str, str]:
    """Host -> availability zone (from its aggregates, lowest id first; else ``nova``)."""
    found: dict[str, str] = {}
    for agg in sorted(aggregates, key=lambda a: a.get("id", 0)):
        zone = agg.get("availability_zone")
        if zone:
            for host in agg.get("hosts") or []:
                found.setdefault(host, str(zone))
    return found


def host_model(services: list[dict[str, Any]], free: dict[str, tuple[float, float, float]],
               zone_of: dict[str, str], source: str | None = None,
               allowed: list[str] | None = None) -> list[Host]:
    """Every compute host as a possible target: usable when up, enabled, not forced down,
    not the failed host and (when the host policy names targets) one of them."""
    hosts = []
    for service in sorted(services, key=lambda s: str(s.get("host"))):
        name = str(service.get("host"))
        why = None
        if name == source:
            why = "the failed host"
        elif service.get("forced_down") or service.get("state") != "up":
            why = "down"
        elif service.get("status") != "enabled":
            why = "disabled"
        elif allowed is not None and name not in allowed:
            why = "not a target of the host policy"
        elif name not in free:
            why = "no resource provider"
        hosts.append(Host(name=name, free=free.get(name, (0.0, 0.0, 0.0)),
                          zone=zone_of.get(name, "nova"), usable=why is None, why_not=why))
    return hosts


def vm_model(server: dict[str, Any], priority: int, pinned: str | None = None,
             group: str | None = None) -> Vm:
    return Vm(id=str(server["id"]), name=str(server.get("name") or server["id"]),
              demand=demand(server), priority=priority, zone=pinned or None, group=group)


def group_model(raw: list[dict[str, Any]], placing: set[str],
                host_of: Callable[[str], str | None]) -> tuple[dict[str, Group], dict[str, str]]:
    """Groups holding a VM being placed (``placing``), with the hosts of their other
    members (``host_of`` reads one server; None: gone), and member -> group id."""
    groups: dict[str, Group] = {}
    member_of: dict[str, str] = {}
    for entry in raw:
        members = [str(m) for m in entry.get("members") or []]
        if not placing.intersection(members):
            continue
        policy = entry.get("policy") or (entry.get("policies") or [""])[0]
        group = Group(id=str(entry["id"]), policy=str(policy))
        for member in members:
            if member in placing:
                member_of[member] = group.id
            else:
                where = host_of(member)
                if where:
                    group.hosts.add(where)
        groups[group.id] = group
    return groups, member_of
