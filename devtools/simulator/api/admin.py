"""Admin resources: os-services, os-aggregates, flavors, os-server-groups, os-migrations."""

from __future__ import annotations

import uuid
from typing import Any

from simulator.api import views
from simulator.api.wsgi import Call, Reply, Router, truthy
from simulator.cloud import Cloud
from simulator.compute import ComputeActions
from simulator.errors import NovaError
from simulator.model import Service


class AdminAPI:
    """Handlers for the admin-side resources the recovery reads or changes."""

    def __init__(self, cloud: Cloud, actions: ComputeActions) -> None:
        self.cloud = cloud
        self.actions = actions

    def register(self, router: Router) -> None:
        """Add this API's routes."""
        add = router.add
        add("GET", "/os-services", self.services)
        add("PUT", "/os-services/(?P<ident>[^/]+)", self.update_service)
        add("GET", "/os-aggregates", self.aggregates)
        add("GET", "/os-aggregates/(?P<agg_id>\\d+)", self.aggregate)
        add("POST", "/os-aggregates/(?P<agg_id>\\d+)/action", self.aggregate_action)
        add("GET", "/flavors", self.flavors)
        add("GET", "/flavors/detail", self.flavors_detail)
        add("GET", "/flavors/(?P<flavor_id>[^/]+)", self.flavor)
        add("GET", "/flavors/(?P<flavor_id>[^/]+)/os-extra_specs", self.extra_specs)
        add("GET", "/os-server-groups", self.server_groups)
        add("GET", "/os-server-groups/(?P<group_id>[^/]+)", self.server_group)
        add("GET", "/os-migrations", self.migrations)

    # -- os-services ------------------------------------------------------------------------
    def services(self, call: Call) -> Reply:
        host, binary = call.param("host"), call.param("binary")
        with self.cloud.lock:
            found = [views.service(call, self.cloud, s)
                     for s in sorted(self.cloud.services.values(), key=lambda s: s.id)
                     if (host is None or s.host == host)
                     and (binary is None or s.binary == binary)]
        return 200, {"services": found}

    def update_service(self, call: Call, ident: str) -> Reply:
        if not call.at_least(2, 53):
            return self._legacy_update(call, ident)
        try:
            uuid.UUID(ident)
        except ValueError as exc:
            raise NovaError(400, f"Invalid uuid {ident}") from exc
        service = self.cloud.services.get(ident)
        if service is None:
            raise NovaError(404, f"Service {ident} could not be found.")
        body = call.body()
        extra = set(body) - {"status", "disabled_reason", "forced_down"}
        if extra or not body:
            raise NovaError(400, "Invalid input for field/attribute service update.")
        status = body.get("status")
        if status not in (None, "enabled", "disabled"):
            raise NovaError(400, f"Invalid input for field/attribute status. Value: {status}.")
        if "disabled_reason" in body and status != "disabled":
            raise NovaError(400, "Specifying 'disabled_reason' with status other than "
                                 "'disabled' is invalid.")
        forced = body.get("forced_down")
        if forced is not None and not isinstance(forced, bool):
            raise NovaError(400, "Invalid input for field/attribute forced_down.")
        self.actions.update_service(
            service, disabled=None if status is None else status == "disabled",
            reason=body.get("disabled_reason"), forced_down=forced)
        return 200, {"service": views.service(call, self.cloud, service)}

    def _legacy_update(self, call: Call, action: str) -> Reply:
        """The pre-2.53 forms: enable, disable, disable-log-reason, force-down (2.11+)."""
        if action not in ("enable", "disable", "disable-log-reason") and not (
                action == "force-down" and call.at_least(2, 11)):
            raise NovaError(404, "Unknown action")
        body = call.body()
        host, binary = body.get("host"), body.get("binary")
        service = self._by_host(str(host), str(binary))
        reply: dict[str, Any] = {"host": service.host, "binary": service.binary}
        if action == "force-down":
            forced = truthy(str(body.get("forced_down")))
            self.actions.update_service(service, forced_down=forced)
            reply["forced_down"] = service.forced_down
        else:
            reason = body.get("disabled_reason") if action == "disable-log-reason" else None
            if action == "disable-log-reason" and not reason:
                raise NovaError(400, "Missing disabled reason field")
            self.actions.update_service(service, disabled=action != "enable", reason=reason)
            reply["status"] = "disabled" if service.disabled else "enabled"
            if reason:
                reply["disabled_reason"] = reason
        return 200, {"service": reply}

    def _by_host(self, host: str, binary: str) -> Service:
        for service in self.cloud.services.values():
            if service.host == host and service.binary == binary:
                return service
        raise NovaError(404, f"Service {binary} on host {host} not found.")

    # -- aggregates -------------------------------------------------------------------------
    def aggregates(self, call: Call) -> Reply:
        with self.cloud.lock:
            return 200, {"aggregates": [views.aggregate(call, a)
                                        for a in self.cloud.aggregates.values()]}

    def aggregate(self, call: Call, agg_id: str) -> Reply:
        agg = self.cloud.aggregates.get(int(agg_id))
        if agg is None:
            raise NovaError(404, f"Aggregate {agg_id} could not be found.")
        return 200, {"aggregate": views.aggregate(call, agg)}

    def aggregate_action(self, call: Call, agg_id: str) -> Reply:
        agg = self.cloud.aggregates.get(int(agg_id))
        if agg is None:
            raise NovaError(404, f"Aggregate {agg_id} could not be found.")
        body = call.body()
        with self.cloud.lock:
            if "add_host" in body:
                host = str(body["add_host"].get("host"))
                if self.cloud.compute_service(host) is None:
                    raise NovaError(404, f"Compute host {host} could not be found.")
                if host in agg.hosts:
                    raise NovaError(409, f"Aggregate {agg_id} already has host {host}.")
                agg.hosts.append(host)
            elif "remove_host" in body:
                host = str(body["remove_host"].get("host"))
                if host not in agg.hosts:
                    raise NovaError(404, f"Aggregate {agg_id} has no host {host}.")
                agg.hosts.remove(host)
            elif "set_metadata" in body:
                for key, value in body["set_metadata"].get("metadata", {}).items():
                    if value is None:
                        agg.metadata.pop(key, None)
                    else:
                        agg.metadata[key] = str(value)
            else:
                raise NovaError(400, "Invalid aggregate action")
            return 200, {"aggregate": views.aggregate(call, agg)}

    # -- flavors ----------------------------------------------------------------------------
    def flavors(self, call: Call) -> Reply:
        return 200, {"flavors": [views.flavor(call, f, detail=False)
                                 for f in self.cloud.flavors.values()]}

    def flavors_detail(self, call: Call) -> Reply:
        return 200, {"flavors": [views.flavor(call, f) for f in self.cloud.flavors.values()]}

    def flavor(self, call: Call, flavor_id: str) -> Reply:
        flavor = self.cloud.flavors.get(flavor_id)
        if flavor is None:
            raise NovaError(404, f"Flavor {flavor_id} could not be found.")
        return 200, {"flavor": views.flavor(call, flavor)}

    def extra_specs(self, call: Call, flavor_id: str) -> Reply:
        flavor = self.cloud.flavors.get(flavor_id)
        if flavor is None:
            raise NovaError(404, f"Flavor {flavor_id} could not be found.")
        return 200, {"extra_specs": dict(flavor.extra_specs)}

    # -- server groups and migrations -------------------------------------------------------
    def server_groups(self, call: Call) -> Reply:
        every = call.is_admin and truthy(call.param("all_projects"))
        with self.cloud.lock:
            return 200, {"server_groups": [
                views.server_group(call, g) for g in self.cloud.groups.values()
                if every or g.project_id == call.actor.project_id]}

    def server_group(self, call: Call, group_id: str) -> Reply:
        with self.cloud.lock:
            group = self.cloud.groups.get(group_id)
            if group is None:
                raise NovaError(404, f"Instance group {group_id} could not be found.")
            return 200, {"server_group": views.server_group(call, group)}

    def migrations(self, call: Call) -> Reply:
        host, status = call.param("host"), call.param("status")
        kind, instance = call.param("migration_type"), call.param("instance_uuid")
        with self.cloud.lock:
            found = [views.migration(call, m) for m in reversed(self.cloud.migrations)
                     if (host is None or host in (m.source_compute, m.dest_compute))
                     and (status is None or m.status == status)
                     and (kind is None or m.migration_type == kind)
                     and (instance is None or m.instance_uuid == instance)]
        return 200, {"migrations": found}
