"""A simple Nova scheduler: filters (up, enabled, not the source, capacity, group policy)
then the least loaded host by free RAM, as Nova's RAMWeigher does by default."""

from __future__ import annotations

from simulator.cloud import Cloud
from simulator.model import Server


def host_passes(cloud: Cloud, server: Server, host: str) -> bool:
    """True when ``host`` can take ``server`` now (the filters of Nova's default set)."""
    service = cloud.compute_service(host)
    if service is None or host == server.host:
        return False
    if service.disabled or not cloud.service_is_up(service):
        return False
    vcpus, ram = cloud.usage(host)
    if vcpus + server.flavor.vcpus > service.vcpus or ram + server.flavor.ram > service.ram_mb:
        return False
    group = cloud.group_of(server)
    if group is None:
        return True
    peers = {cloud.servers[m].claimed_host or cloud.servers[m].host for m in group.members
             if m != server.id and m in cloud.servers}
    if group.policy == "anti-affinity":
        return host not in peers
    if group.policy == "affinity":
        # Evacuating a whole affinity group: peers still on the dead source do not count.
        live = peers - {server.host}
        return not live or host in live
    return True


def select_destination(cloud: Cloud, server: Server) -> str | None:
    """The host the scheduler picks for ``server``, or None (NoValidHost)."""
    candidates = [s.host for s in cloud.compute_services()
                  if host_passes(cloud, server, s.host)]
    if not candidates:
        return None

    def free_ram(host: str) -> int:
        service = cloud.compute_service(host)
        assert service is not None
        return service.ram_mb - cloud.usage(host)[1]

    return max(candidates, key=lambda h: (free_ram(h), h))
