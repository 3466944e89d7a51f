"""Build a Cloud from a Scenario: hosts, services, flavors, images, groups and VMs."""

from __future__ import annotations

import logging
import math
import random
import time
import uuid

from simulator.cloud import Cloud
from simulator.model import (
    ACTIVE,
    ERROR,
    RUNNING,
    SHUTDOWN,
    STOPPED,
    Aggregate,
    Flavor,
    Image,
    Server,
    ServerGroup,
    Service,
)
from simulator.placement import RESOURCE_CLASSES, Amounts, Inventory, Provider, flavor_amounts
from simulator.scenario import Scenario

LOG = logging.getLogger(__name__)


def _uuid(rng: random.Random) -> str:
    # Seeded ids: the same scenario gives the same cloud, which keeps test failures readable.
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _weighted(rng: random.Random, weights: list[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def build_cloud(scenario: Scenario) -> Cloud:
    """A fresh cloud laid out as ``scenario`` says."""
    rng = random.Random(scenario["seed"])
    cloud = Cloud(scenario["api_host"], float(scenario["service_down_time"]),
                  report_interval=float(scenario["report_interval"]))
    for name in scenario["projects"]:
        cloud.projects[name] = uuid.UUID(int=rng.getrandbits(128)).hex
    for cred in scenario["credentials"]:
        cloud.projects.setdefault(cred["project"], uuid.UUID(int=rng.getrandbits(128)).hex)
    _add_services(cloud, scenario, rng)
    for index, spec in enumerate(scenario["flavors"]):
        flavor = Flavor(id=str(index + 1), name=spec["name"], vcpus=int(spec["vcpus"]),
                        ram=int(spec["ram"]), disk=int(spec["disk"]),
                        extra_specs=dict(spec.get("extra_specs", {})))
        cloud.flavors[flavor.id] = flavor
    for spec in scenario["images"]:
        image = Image(id=_uuid(rng), name=spec["name"],
                      properties=dict(spec.get("properties", {})))
        cloud.images[image.id] = image
    hosts = [s.host for s in cloud.compute_services()]
    for index, spec in enumerate(scenario["aggregates"]):
        members = hosts if spec.get("hosts") == "all" else list(spec.get("hosts", []))
        cloud.aggregates[index + 1] = Aggregate(
            id=index + 1, uuid=_uuid(rng), name=spec["name"],
            availability_zone=spec.get("availability_zone"), hosts=members,
            metadata=dict(spec.get("metadata", {})))
    _add_providers(cloud, scenario)
    _add_servers(cloud, scenario, rng, hosts)
    if scenario["free_fraction"] is not None:
        _size_to_fit(cloud, scenario, float(scenario["free_fraction"]))
    _pin_zones(cloud, scenario)
    return cloud


def _inventories(scenario: Scenario, totals: Amounts) -> dict[str, Inventory]:
    ratios, reserved = scenario["allocation_ratios"], scenario["reserved"]
    return {rc: Inventory(total=int(totals[i]), reserved=int(reserved.get(rc, 0)),
                          allocation_ratio=float(ratios.get(rc, 1.0)))
            for i, rc in enumerate(RESOURCE_CLASSES)}


def _add_providers(cloud: Cloud, scenario: Scenario) -> None:
    """One resource provider per compute node, sized by the scenario."""
    sizes = scenario["host_capacities"]
    for service in cloud.compute_services():
        size = sizes.get(service.host, {})
        service.vcpus = int(size.get("vcpus", scenario["host_vcpus"]))
        service.ram_mb = int(size.get("ram_mb", scenario["host_ram_mb"]))
        disk = int(size.get("disk_gb", scenario["host_disk_gb"]))
        # Derived from the service's seeded uuid: no draw, so seeded clouds keep their ids.
        rp_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"resource-provider/{service.uuid}"))
        cloud.placement.add_provider(Provider(
            uuid=rp_uuid, name=service.host,
            inventories=_inventories(scenario, (service.vcpus, service.ram_mb, disk))))


def _size_to_fit(cloud: Cloud, scenario: Scenario, free_fraction: float) -> None:
    """Give each host the smallest inventory that leaves ``free_fraction`` of every
    resource's capacity free, and still takes the largest flavor (max_unit)."""
    if not 0.0 <= free_fraction < 1.0:
        raise ValueError("free_fraction must be in [0, 1)")
    largest = [max((flavor_amounts(f)[i] for f in cloud.flavors.values()), default=1)
               for i in range(3)]
    for service in cloud.compute_services():
        provider = cloud.placement.providers[service.host]
        totals = []
        for index, rc in enumerate(RESOURCE_CLASSES):
            inv = provider.inventories[rc]
            wanted = provider.used[index] / (1.0 - free_fraction) / inv.allocation_ratio
            totals.append(max(inv.reserved + math.ceil(wanted), largest[index], 1))
        provider.inventories = _inventories(scenario, (totals[0], totals[1], totals[2]))
        service.vcpus, service.ram_mb = totals[0], totals[1]


def _pin_zones(cloud: Cloud, scenario: Scenario) -> None:
    """Pin a fraction of the VMs to their host's zone (own generator: ids stay seeded)."""
    fraction = float(scenario["pinned_az_fraction"])
    if fraction <= 0:
        return
    rng = random.Random(int(scenario["seed"]) + 1)
    for server in sorted(cloud.servers.values(), key=lambda s: s.seq):
        if rng.random() < fraction:
            server.availability_zone = cloud.zone_of(server.host)


def _add_services(cloud: Cloud, scenario: Scenario, rng: random.Random) -> None:
    api = scenario["api_host"]
    binaries = [("nova-scheduler", api, "internal"), ("nova-conductor", api, "internal")]
    binaries += [("nova-compute", f"{scenario['host_prefix']}{i + 1}", "nova")
                 for i in range(int(scenario["hosts"]))]
    for number, (binary, host, zone) in enumerate(binaries, start=1):
        service = Service(uuid=_uuid(rng), id=number, host=host, binary=binary, zone=zone)
        cloud.services[service.uuid] = service


def _add_servers(cloud: Cloud, scenario: Scenario, rng: random.Random,
                 hosts: list[str]) -> None:
    states = list(scenario["states"].items())
    meta_mix = scenario["metadata"]
    flavors = list(cloud.flavors.values())
    images = list(cloud.images.values())
    projects = list(cloud.projects.values())
    now = time.time()
    seq = 0
    unbounded = scenario["free_fraction"] is not None  # hosts are sized afterwards
    amounts = [flavor_amounts(f) for f in flavors]
    largest = (max(a[0] for a in amounts), max(a[1] for a in amounts),
               max(a[2] for a in amounts))
    for host in hosts:
        provider = cloud.placement.providers[host]
        for placed in range(int(scenario["vms_per_host"])):
            # Room for the largest of each: every flavor fits (the cheap common case).
            fitting = flavors if unbounded or provider.fits(largest) else [
                f for f, a in zip(flavors, amounts, strict=True) if provider.fits(a)]
            if not fitting:
                LOG.warning("%s is full: %d of %d VMs placed", host, placed,
                            scenario["vms_per_host"])
                break
            seq += 1
            state = states[_weighted(rng, [w for _, w in states])][0]
            meta = meta_mix[_weighted(rng, [m["weight"] for m in meta_mix])]["metadata"]
            server = Server(
                id=_uuid(rng), name=f"vm-{seq:05d}", project_id=projects[seq % len(projects)],
                user_id=uuid.UUID(int=seq).hex, host=host, flavor=rng.choice(fitting),
                image=rng.choice(images), created=now - 86400 + seq, vm_state=state,
                power_state=RUNNING if state == ACTIVE else SHUTDOWN,
                metadata=dict(meta), ip=f"10.{seq // 65536}.{seq // 256 % 256}.{seq % 256}",
                mac=f"fa:16:3e:{seq // 65536:02x}:{seq // 256 % 256:02x}:{seq % 256:02x}",
                port_id=_uuid(rng), launched_at=now - 86400 + seq, seq=seq)
            if state == ERROR:
                server.fault = {"code": 500, "created": "2024-01-01T00:00:00Z",
                                "message": "Simulated boot failure"}
            elif state == STOPPED:
                server.power_state = SHUTDOWN
            cloud.servers[server.id] = server
            cloud.claim(server, host, check=False)
    _add_groups(cloud, scenario, rng)


def _add_groups(cloud: Cloud, scenario: Scenario, rng: random.Random) -> None:
    """Groups take members from different hosts, so policies hold at start."""
    free = sorted((s for s in cloud.servers.values() if s.server_group is None),
                  key=lambda s: (s.seq % int(scenario["vms_per_host"] or 1), s.seq))
    for spec in scenario["server_groups"]:
        owner = free[0].project_id if free else next(iter(cloud.projects.values()))
        group = ServerGroup(id=_uuid(rng), name=spec["name"], policy=spec["policy"],
                            project_id=owner, user_id=uuid.UUID(int=0).hex)
        used_hosts: set[str] = set()
        for server in list(free):
            if len(group.members) >= int(spec.get("members", 2)):
                break
            if group.policy == "anti-affinity" and server.host in used_hosts:
                continue
            if group.policy == "affinity" and used_hosts and server.host not in used_hosts:
                continue
            group.members.append(server.id)
            server.server_group = group.id
            used_hosts.add(server.host)
            free.remove(server)
        cloud.groups[group.id] = group
