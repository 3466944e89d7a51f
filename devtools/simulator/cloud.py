"""The simulated cloud's state: one lock, the objects, the up/down rules and heartbeat of
services, and Placement's allocations kept in step with the servers."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from simulator import heartbeat
from simulator.model import Aggregate, Flavor, Image, Migration, Server, ServerGroup, Service
from simulator.placement import Placement, flavor_amounts

DEFAULT_ZONE = "nova"  # Nova's default_availability_zone


class Cloud:
    """Everything the APIs read and the workers change; guard changes with ``lock``."""

    def __init__(self, api_host: str, service_down_time: float,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, report_interval: float = 10.0) -> None:
        self.lock = threading.RLock()
        self.api_host = api_host
        self.service_down_time = service_down_time
        self.report_interval = report_interval
        self.clock = clock  # monotonic: service_down_time
        self.wall = wall  # wall clock: the times Nova's API shows
        self.projects: dict[str, str] = {}  # name -> id
        self.services: dict[str, Service] = {}  # uuid -> service
        self.servers: dict[str, Server] = {}
        self.flavors: dict[str, Flavor] = {}
        self.images: dict[str, Image] = {}
        self.groups: dict[str, ServerGroup] = {}
        self.aggregates: dict[int, Aggregate] = {}
        self.migrations: list[Migration] = []
        self.placement = Placement()
        self._by_host: dict[str, Service] = {}
        self._indexed = 0
        self._listing: tuple[list[Server], dict[str, int]] = ([], {})

    def servers_newest_first(self) -> tuple[list[Server], dict[str, int]]:
        """Servers in Nova's default listing order (newest first) and each id's position:
        what a marker resumes from. Rebuilt when servers are added (none is ever deleted),
        as Nova's database answers a page from an index, not by sorting every server."""
        if len(self._listing[0]) != len(self.servers):
            ordered = sorted(self.servers.values(), key=lambda s: s.seq, reverse=True)
            self._listing = (ordered, {s.id: i for i, s in enumerate(ordered)})
        return self._listing

    # -- services ---------------------------------------------------------------------------
    def compute_service(self, host: str) -> Service | None:
        """The nova-compute service of ``host`` (None for an unknown host)."""
        # An index, rebuilt when services are added: server views ask this once per VM.
        if self._indexed != len(self.services):
            self._by_host = {s.host: s for s in self.services.values()
                             if s.binary == "nova-compute"}
            self._indexed = len(self.services)
        return self._by_host.get(host)

    def compute_services(self) -> list[Service]:
        """Every nova-compute service, in id order."""
        return sorted((s for s in self.services.values() if s.binary == "nova-compute"),
                      key=lambda s: s.id)

    def service_is_up(self, service: Service) -> bool:
        """Nova's servicegroup rule: forced down is down at once, a dead host after a delay."""
        if service.forced_down:
            return False
        if service.failed_at is None:
            return True
        return self.clock() - service.failed_at < self.service_down_time

    def updated_at(self, service: Service) -> float:
        """The row's ``updated_at`` (wall time): last heartbeat or last other save."""
        return heartbeat.updated_at(service, self.wall(), self.report_interval)

    def last_seen_up(self, service: Service) -> float:
        """The last heartbeat (wall time)."""
        return heartbeat.last_report(service, self.wall(), self.report_interval)

    def report_count(self, service: Service) -> int:
        """Heartbeats so far."""
        return heartbeat.report_count(service, self.wall(), self.report_interval)

    def saved(self, service: Service) -> None:
        """An API update saved the row (``updated_at`` moves, as ``Service.save()``)."""
        heartbeat.save(service, self.wall())

    def host_status(self, host: str) -> str:
        """The ``host_status`` field of a server (2.16+)."""
        service = self.compute_service(host)
        if service is None:
            return "UNKNOWN"
        if not self.service_is_up(service):
            return "DOWN"
        return "MAINTENANCE" if service.disabled else "UP"

    def fail_host(self, host: str, immediate: bool = False) -> Service:
        """The host stops heartbeating; ``immediate`` skips service_down_time (and dates
        the last heartbeat that long ago, as Nova would show it)."""
        service = self._require(host)
        if service.failed_at is None:
            service.failed_at = self.clock()
            heartbeat.stop(service, self.wall())
        if immediate:
            service.failed_at = self.clock() - self.service_down_time
            assert service.stopped_reporting is not None
            service.stopped_reporting = min(service.stopped_reporting,
                                            self.wall() - self.service_down_time)
        return service

    def revive_host(self, host: str) -> Service:
        """The host's nova-compute starts again: heartbeats resume and, like Nova's
        ``_destroy_evacuated_instances``, it completes the evacuations away from it and
        removes their allocations from its provider (the "orphaned allocations")."""
        service = self._require(host)
        if service.failed_at is not None:
            service.failed_at = None
            heartbeat.restart(service, self.wall(), self.report_interval)
        for migration in self.migrations:
            if migration.source_compute == host and migration.status == "done":
                migration.status = "completed"
        if host in self.placement.providers:
            for consumer in self.placement.holders(host):
                server = self.servers.get(consumer)
                if server is None or host not in (server.host, server.claimed_host):
                    self.placement.release(consumer, host)
        return service

    def _require(self, host: str) -> Service:
        service = self.compute_service(host)
        if service is None:
            raise KeyError(host)
        return service

    def zone_of(self, host: str) -> str:
        """The host's availability zone: from its aggregates, else the default."""
        for agg in self.aggregates.values():
            if agg.availability_zone and host in agg.hosts:
                return agg.availability_zone
        return DEFAULT_ZONE

    # -- servers and capacity ---------------------------------------------------------------
    def servers_on(self, host: str) -> list[Server]:
        """Servers whose instance.host is ``host``."""
        return [s for s in self.servers.values() if s.host == host]

    def usage(self, host: str) -> tuple[int, int]:
        """(vcpus, ram_mb) allocated on ``host`` in Placement: its servers, claims of running
        evacuations, and allocations left by evacuations away from it."""
        if host not in self.placement.providers:
            return 0, 0
        vcpus, ram, _ = self.placement.usage(host)
        return vcpus, ram

    def claim(self, server: Server, host: str, check: bool = True) -> bool:
        """Allocate ``server``'s flavor on ``host``; False when it does not fit."""
        return self.placement.claim(server.id, server.project_id, server.user_id, host,
                                    flavor_amounts(server.flavor), check)

    def release(self, server: Server, host: str) -> None:
        """Drop ``server``'s allocation on ``host``."""
        self.placement.release(server.id, host)

    def group_of(self, server: Server) -> ServerGroup | None:
        """The server group ``server`` belongs to, if any."""
        return self.groups.get(server.server_group) if server.server_group else None

    def migrations_of(self, server_id: str) -> list[Migration]:
        """Migrations of one instance, oldest first."""
        return [m for m in self.migrations if m.instance_uuid == server_id]

    def new_migration(self, server: Server, dest: str | None) -> Migration:
        """Record an evacuation of ``server`` (status accepted)."""
        migration = Migration(
            id=len(self.migrations) + 1, uuid=str(uuid.uuid4()), instance_uuid=server.id,
            source_compute=server.host, dest_compute=dest, status="accepted",
            project_id=server.project_id, user_id=server.user_id)
        self.migrations.append(migration)
        return migration
