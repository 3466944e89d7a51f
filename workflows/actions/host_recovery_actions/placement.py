"""A read-only Placement and compute client over the Nova facade's keystoneauth session.

Free capacity comes from one ``GET /allocation_candidates`` (Placement >= 1.10; 1.29 here so
every provider summary lists every resource class): per provider ``capacity`` (= (total -
reserved) x allocation_ratio) and ``used`` (every allocation, the failed host's orphaned ones
included, as Nova keeps them until its nova-compute restarts). A provider missing from the
candidates cannot take even the smallest VM: it counts as full. One request, whatever the
number of hosts.

Usage::

    client = PlacementClient.from_nova(nova, conf)
    client.free()                  -> {"compute1": (vcpu, ram_mb, disk_gb), ...}
    client.compute_get("/os-server-groups?all_projects=True", "2.64")
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import orjson

from . import transient
from .nova import NovaError, NovaUnavailable

__all__ = ["MICROVERSION", "PlacementClient"]

MICROVERSION = "1.29"
PROBE = "VCPU:1,MEMORY_MB:1"  # the smallest request: every provider with any room


class PlacementClient:
    """GETs against Placement and Nova's compute API with explicit microversions."""

    def __init__(self, session: Any, interface: str | None = None,
                 region: str | None = None, compute_endpoint: str | None = None) -> None:
        self._session = session
        self._interface = interface
        self._region = region
        self._compute_endpoint = compute_endpoint

    @classmethod
    def from_nova(cls, nova: Any, conf: Any) -> PlacementClient:
        """Share the Nova facade's session (one token per process)."""
        # the facade keeps its keystoneauth session private; reading it here avoids a
        # second session and a second token request per action run
        session = getattr(nova, "_session", None)
        if session is None:
            raise NovaUnavailable("the Nova facade has no keystoneauth session")
        return cls(session, conf.nova.interface, conf.nova.region_name,
                   conf.nova.endpoint_override)

    def _get(self, service: str, path: str, version: str) -> Any:
        return self._get_dated(service, path, version)[0]

    def _get_dated(self, service: str, path: str, version: str) -> tuple[Any, str | None]:
        """The JSON answer and the service's own clock (its ``Date`` header)."""
        kwargs: dict[str, Any] = {"raise_exc": False, "headers": {
            "OpenStack-API-Version": f"{service} {version}", "Accept": "application/json"}}
        url = path
        if service == "compute" and self._compute_endpoint:
            url = self._compute_endpoint.rstrip("/") + path
        else:
            kwargs["endpoint_filter"] = {"service_type": service,
                                         "interface": self._interface,
                                         "region_name": self._region}

        def fetch() -> Any:
            try:
                resp = self._session.get(url, **kwargs)
            except Exception as exc:  # keystoneauth connection errors, no endpoint
                raise NovaUnavailable(f"{service} {path}: {exc}") from exc
            if resp.status_code >= 500:
                raise NovaUnavailable(f"{service} {path}: {resp.status_code}")
            return resp

        resp = transient.read(fetch, NovaUnavailable)
        if resp.status_code >= 300:
            raise NovaError(resp.status_code, f"{service} {path}: {resp.text[:200]}")
        # orjson: a full server read is 50 pages of 2 MB on a cloud of 50,000 VMs, and the
        # stdlib decoder was half of its time (measured in bench capacity)
        return orjson.loads(resp.content), resp.headers.get("Date")

    def placement_get(self, path: str, version: str = MICROVERSION) -> Any:
        return self._get("placement", path, version)

    def compute_get(self, path: str, version: str) -> Any:
        return self._get("compute", path, version)

    def free(self) -> dict[str, tuple[float, float, float]]:
        """Free VCPU, MEMORY_MB, DISK_GB per provider name (a full provider: zeros)."""
        providers = self.placement_get("/resource_providers")["resource_providers"]
        names = {p["uuid"]: p["name"] for p in providers}
        found = self.placement_get(f"/allocation_candidates?resources={PROBE}")
        free: dict[str, tuple[float, float, float]] = {name: (0.0, 0.0, 0.0)
                                                       for name in names.values()}
        for uuid, summary in (found.get("provider_summaries") or {}).items():
            if uuid not in names:
                continue
            res = summary.get("resources") or {}
            free[names[uuid]] = tuple(  # type: ignore[assignment]
                float(res.get(rc, {}).get("capacity", 0)) - float(res.get(rc, {}).get("used", 0))
                for rc in ("VCPU", "MEMORY_MB", "DISK_GB"))
        return free

    def has_room(self, host: str, demand: list[float] | tuple[float, ...]) -> bool:
        """Whether ``host``'s provider can take ``demand`` now (1.4 ``resources`` filter)."""
        wanted = ",".join(f"{rc}:{int(amount)}" for rc, amount in
                          zip(("VCPU", "MEMORY_MB", "DISK_GB"), demand, strict=True) if amount)
        if not wanted:
            return True
        found = self.placement_get(f"/resource_providers?name={host}&resources={wanted}")
        return bool(found.get("resource_providers"))

    def servers(self, host: str | None = None, page: int = 1000) -> list[dict[str, Any]]:
        """Servers (all projects, of ``host`` when given) at 2.96: flavor embedded,
        ``pinned_availability_zone`` shown; [] pages end the listing."""
        return self.servers_dated(host=host, page=page)[0]

    def servers_dated(self, host: str | None = None, changes_since: str | None = None,
                      page: int = 1000) -> tuple[list[dict[str, Any]], str | None]:
        """``servers`` (only those changed since ``changes_since``, deleted ones included,
        when given: Nova's filter on updated_at) and Nova's clock when the first page was
        answered (its ``Date`` header), the point the next incremental read starts from."""
        found: list[dict[str, Any]] = []
        marker, date = None, None
        query = (f"&host={host}" if host else "") + \
            (f"&changes-since={urllib.parse.quote(changes_since)}" if changes_since else "")
        while True:
            more = f"&marker={marker}" if marker else ""
            answer, answered = self._get_dated(
                "compute", f"/servers/detail?all_tenants=1&limit={page}{query}{more}", "2.96")
            date = date or answered
            batch = answer["servers"]
            found.extend(batch)
            if len(batch) < page:
                return found, date
            marker = batch[-1]["id"]

    def server_groups(self) -> list[dict[str, Any]]:
        """Every server group with its policy and members (2.64)."""
        groups: list[dict[str, Any]] = self.compute_get(
            "/os-server-groups?all_projects=True&limit=1000", "2.64")["server_groups"]
        return groups
