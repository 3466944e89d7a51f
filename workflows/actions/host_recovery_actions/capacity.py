"""Where a failed host's VMs would go: first-fit-decreasing against Placement's free capacity.

Pure functions over plain data (no Nova, no Placement, no files), shared by the workflow's
plan and the operator's ``host-recovery plan``/``capacity`` (the action pack is installed in
both virtualenvs), so the plan shown is the plan run.

Usage::

    result = assign(vms, hosts, groups)
    result.targets["<vm id>"]  -> host name;  result.unplaced["<vm id>"] -> reason

VMs go highest priority first (then largest first: RAM, VCPU, disk), each to the first usable
host (most free RAM first, as Nova's RAMWeigher) in its pinned zone that has room and that its
hard server-group policy allows; soft policies are followed when possible and each violation
is reported. When first-fit leaves VMs out of a small problem, an exact search tries to place
them all (first-fit-decreasing is a heuristic; this keeps small clouds exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RESOURCES", "Group", "Host", "Result", "Vm", "assign", "fits", "ranked", "tier_of"]

RESOURCES = ("VCPU", "MEMORY_MB", "DISK_GB")
EXACT_MAX_VMS = 10   # an exact search only on problems this small (it is exponential)
EXACT_MAX_HOSTS = 8


@dataclass
class Host:
    """A possible target: free = Placement capacity x ratio - reserved - usages (orphaned
    allocations included), per RESOURCES; ``usable`` false says why in ``why_not``."""

    name: str
    free: tuple[float, float, float]
    zone: str = "nova"
    usable: bool = True
    why_not: str | None = None


@dataclass
class Vm:
    """A VM to place: its flavor's demand per RESOURCES, priority, pinned zone, group."""

    id: str
    name: str
    demand: tuple[float, float, float]
    priority: int = 0
    zone: str | None = None
    group: str | None = None


@dataclass
class Group:
    """A server group: ``policy`` (anti-affinity, affinity, soft-...), ``hosts``: where its
    members that are not being placed run now."""

    id: str
    policy: str
    hosts: set[str] = field(default_factory=set)


@dataclass
class Result:
    targets: dict[str, str] = field(default_factory=dict)
    unplaced: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def fits(free: tuple[float, ...] | list[float], demand: tuple[float, ...]) -> bool:
    return all(d <= f for d, f in zip(demand, free, strict=True))


def tier_of(priority: int, bands: list[int]) -> int:
    """The tier of a priority: 0 for priority >= bands[0] (highest), ... len(bands) below."""
    for index, low in enumerate(sorted(bands, reverse=True)):
        if priority >= low:
            return index
    return len(bands)


def vm_order(vms: list[Vm]) -> list[Vm]:
    """Priority first, then decreasing size (RAM binds first in Nova clouds), stable."""
    return sorted(vms, key=lambda v: (-v.priority, -v.demand[1], -v.demand[0],
                                      -v.demand[2], v.name, v.id))


def ranked(hosts: list[Host]) -> list[Host]:
    """The usable hosts in first-fit order: most free RAM first (Nova's RAMWeigher), by name."""
    return sorted((h for h in hosts if h.usable), key=lambda h: (-h.free[1], h.name))


class _FreeLeft(dict[str, list[float]]):
    """Free capacity per host name, copied from the host on first use: placing one host's
    VMs touches few of a thousand hosts, and the failover analysis places a thousand losses."""

    def __init__(self, hosts: list[Host]) -> None:
        super().__init__()
        self._initial = {h.name: h.free for h in hosts}

    def __missing__(self, name: str) -> list[float]:
        free = self[name] = list(self._initial[name])
        return free


class _State:
    """Free capacity and group placements while assigning."""

    def __init__(self, hosts: list[Host], groups: dict[str, Group],
                 in_order: list[Host] | None = None) -> None:
        self.hosts = ranked(hosts) if in_order is None else in_order
        self.free = _FreeLeft(self.hosts)
        self.groups = groups
        self.members = {gid: set(g.hosts) for gid, g in groups.items()}

    def allows(self, vm: Vm, host: str, soft: bool) -> bool:
        group = self.groups.get(vm.group or "")
        if group is None:
            return True
        used = self.members[group.id]
        policy = group.policy
        if policy == "anti-affinity" or (soft and policy == "soft-anti-affinity"):
            return host not in used
        if policy == "affinity" or (soft and policy == "soft-affinity"):
            return not used or host in used
        return True

    def candidates(self, vm: Vm) -> list[Host]:
        if vm.zone is None:
            return self.hosts
        return [h for h in self.hosts if h.zone == vm.zone]

    def take(self, vm: Vm, host: str) -> None:
        free = self.free[host]
        for i, amount in enumerate(vm.demand):
            free[i] -= amount
        if vm.group in self.members:
            self.members[vm.group].add(host)

    def give(self, vm: Vm, host: str, before: set[str] | None) -> None:
        free = self.free[host]
        for i, amount in enumerate(vm.demand):
            free[i] += amount
        if vm.group in self.members and before is not None:
            self.members[vm.group] = before

    def first_fit(self, vm: Vm) -> tuple[str | None, bool]:
        """(host, soft policy kept): the first host with room that the group allows."""
        group = self.groups.get(vm.group or "")
        passes = (True, False) if group and group.policy.startswith("soft-") else (False,)
        cpu, ram, disk = vm.demand
        for soft in passes:
            for host in self.candidates(vm):
                free = self.free[host.name]
                if free[1] >= ram and free[0] >= cpu and free[2] >= disk \
                        and self.allows(vm, host.name, soft):
                    return host.name, soft or len(passes) == 1
        return None, True

    def reason(self, vm: Vm, all_hosts: list[Host]) -> str:
        zoned = self.candidates(vm)
        if not zoned:
            if vm.zone is not None and any(h.zone == vm.zone for h in all_hosts):
                return f"no usable host in its availability zone {vm.zone}"
            where = f" in availability zone {vm.zone}" if vm.zone else ""
            return f"no usable host{where}"
        # without a group, first-fit already found no host with room
        if vm.group and any(fits(self.free[h.name], vm.demand) for h in zoned):
            group = self.groups[str(vm.group)]
            return f"hard {group.policy} of server group {group.id}: no host with room allows it"
        short = [rc for i, rc in enumerate(RESOURCES)
                 if max(self.free[h.name][i] for h in zoned) < vm.demand[i]]
        need = ", ".join(f"{rc} {vm.demand[RESOURCES.index(rc)]:g}" for rc in short) or \
            ", ".join(f"{rc} {d:g}" for rc, d in zip(RESOURCES, vm.demand, strict=True))
        return f"not enough capacity: no usable host has {need} free"


def assign(vms: list[Vm], hosts: list[Host], groups: dict[str, Group] | None = None,
           in_order: list[Host] | None = None) -> Result:
    """Each VM's target by first-fit-decreasing (priority first), the rest with a reason.
    ``in_order``: ``ranked(hosts)`` when the caller has it (the failover analysis ranks once
    for a thousand losses instead of sorting a thousand hosts per loss)."""
    groups = groups or {}
    state = _State(hosts, groups, in_order)
    result = Result()
    ordered = vm_order(vms)
    # Free capacity only shrinks while assigning: once a demand found no host in a zone,
    # any VM as big in every resource there (and not in a group) finds none either. This
    # keeps a tight cloud's analysis fast (capacity of 1,000 hosts: no full scan per VM).
    failed: list[tuple[str | None, tuple[float, float, float], str]] = []
    for vm in ordered:
        known = None if vm.group else next(
            (why for zone, demand, why in failed if zone in (None, vm.zone)
             and all(d >= f for d, f in zip(vm.demand, demand, strict=True))), None)
        if known is not None:
            result.unplaced[vm.id] = known
            continue
        host, kept = state.first_fit(vm)
        if host is None:
            result.unplaced[vm.id] = state.reason(vm, hosts)
            if not vm.group:
                failed.append((vm.zone, vm.demand, result.unplaced[vm.id]))
            continue
        state.take(vm, host)
        result.targets[vm.id] = host
        if not kept:
            result.violations.append(
                f"{vm.name} ({vm.id}) on {host} breaks the {groups[str(vm.group)].policy} "
                f"of server group {vm.group}")
    if result.unplaced and len(vms) <= EXACT_MAX_VMS and len(state.hosts) <= EXACT_MAX_HOSTS:
        exact = _exact(ordered, _State(hosts, groups, in_order))
        if exact is not None:  # hard constraints only: say which soft policies it breaks
            return Result(targets=exact, violations=soft_violations(ordered, exact, groups))
    return result


def soft_violations(vms: list[Vm], targets: dict[str, str],
                    groups: dict[str, Group]) -> list[str]:
    """The soft group policies ``targets`` breaks, one line per VM placed against one."""
    found = []
    placed = {gid: set(g.hosts) for gid, g in groups.items()}
    for vm in vms:
        group, host = groups.get(vm.group or ""), targets.get(vm.id)
        if group is None or host is None or not group.policy.startswith("soft-"):
            continue
        used = placed[group.id]
        broken = host in used if group.policy == "soft-anti-affinity" else \
            bool(used) and host not in used
        if broken:
            found.append(f"{vm.name} ({vm.id}) on {host} breaks the {group.policy} of "
                         f"server group {group.id}")
        used.add(host)
    return found


def _exact(vms: list[Vm], state: _State) -> dict[str, str] | None:
    """Every VM placed under the hard constraints (depth-first search), or None."""
    chosen: dict[str, str] = {}

    def place(index: int) -> bool:
        if index == len(vms):
            return True
        vm = vms[index]
        for host in state.candidates(vm):
            if fits(state.free[host.name], vm.demand) and state.allows(vm, host.name, False):
                before = set(state.members[vm.group]) if vm.group in state.members else None
                state.take(vm, host.name)
                chosen[vm.id] = host.name
                if place(index + 1):
                    return True
                state.give(vm, host.name, before)
                del chosen[vm.id]
        return False

    return dict(chosen) if place(0) else None
