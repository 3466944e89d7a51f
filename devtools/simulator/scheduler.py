"""A simple Nova scheduler: Placement's capacity (inventory x allocation ratio, minus every
allocation, orphaned ones included), then filters (up, enabled, not the source, pinned
availability zone, group policy), then the host with the most free RAM, as Nova's
RAMWeigher does by default."""

from __future__ import annotations

from simulator.cloud import Cloud
from simulator.model import Server
from simulator.placement import flavor_amounts


def host_passes(cloud: Cloud, server: Server, host: str) -> bool:
    """True when ``host`` can take ``server`` now (Placement, then Nova's default filters)."""
    service = cloud.compute_service(host)
    provider = cloud.placement.providers.get(host)
    if service is None or provider is None or host == server.host:
        return False
    if not provider.fits(flavor_amounts(server.flavor)):
        return False
    if service.disabled or not cloud.service_is_up(service):
        return False
    if server.availability_zone and cloud.zone_of(host) != server.availability_zone:
        return False
    return group_allows(cloud, server, host)


def group_allows(cloud: Cloud, server: Server, host: str) -> bool:
    """The hard server-group policy of ``server`` allows ``host``."""
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
    providers = cloud.placement.providers
    return max(candidates, key=lambda h: (providers[h].free()[1], h))
