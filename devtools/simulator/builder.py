"""Build a Cloud from a Scenario: hosts, services, flavors, images, groups and VMs."""

from __future__ import annotations

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
from simulator.scenario import Scenario


def _uuid(rng: random.Random) -> str:
    # Seeded ids: the same scenario gives the same cloud, which keeps test failures readable.
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _weighted(rng: random.Random, weights: list[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def build_cloud(scenario: Scenario) -> Cloud:
    """A fresh cloud laid out as ``scenario`` says."""
    rng = random.Random(scenario["seed"])
    cloud = Cloud(scenario["api_host"], float(scenario["service_down_time"]))
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
    _add_servers(cloud, scenario, rng, hosts)
    return cloud


def _add_services(cloud: Cloud, scenario: Scenario, rng: random.Random) -> None:
    api = scenario["api_host"]
    binaries = [("nova-scheduler", api, "internal"), ("nova-conductor", api, "internal")]
    binaries += [("nova-compute", f"{scenario['host_prefix']}{i + 1}", "nova")
                 for i in range(int(scenario["hosts"]))]
    for number, (binary, host, zone) in enumerate(binaries, start=1):
        service = Service(uuid=_uuid(rng), id=number, host=host, binary=binary, zone=zone)
        if binary == "nova-compute":
            service.vcpus = int(scenario["host_vcpus"])
            service.ram_mb = int(scenario["host_ram_mb"])
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
    for host in hosts:
        for _ in range(int(scenario["vms_per_host"])):
            seq += 1
            state = states[_weighted(rng, [w for _, w in states])][0]
            meta = meta_mix[_weighted(rng, [m["weight"] for m in meta_mix])]["metadata"]
            server = Server(
                id=_uuid(rng), name=f"vm-{seq:05d}", project_id=projects[seq % len(projects)],
                user_id=uuid.UUID(int=seq).hex, host=host, flavor=rng.choice(flavors),
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
