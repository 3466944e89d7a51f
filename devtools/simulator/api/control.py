"""The simulator's own admin API under /_sim/: fail or revive hosts, read state, set a
server's fields as Nova holds them (PATCH /_sim/servers/{id}), read and clear the request
log, change fault rates, revoke tokens. Not logged in the request log."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import webob

from simulator import heartbeat, states
from simulator.api.views import status
from simulator.api.wsgi import Call, Reply, Router, json_response
from simulator.errors import NovaError
from simulator.placement import RESOURCE_CLASSES

if TYPE_CHECKING:
    from simulator.service import Simulator


class ControlApp:
    """WSGI app; every route is under ``/_sim``."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.router = Router()
        add = self.router.add
        add("GET", "/_sim/health", lambda c: (200, {"status": "ok", "idle": sim.idle()}))
        add("GET", "/_sim/state", self.state)
        add("GET", "/_sim/servers", self.servers)
        add("PATCH", "/_sim/servers/(?P<server_id>[^/]+)", self.set_server)
        add("POST", "/_sim/hosts/(?P<host>[^/]+)/fail", self.fail)
        add("POST", "/_sim/hosts/(?P<host>[^/]+)/revive", self.revive)
        add("GET", "/_sim/faults", lambda c: (200, sim.dice.as_dict()))
        add("PUT", "/_sim/faults", self.set_faults)
        add("PUT", "/_sim/config", self.set_config)
        add("GET", "/_sim/requests", self.requests)
        add("DELETE", "/_sim/requests", self.clear_requests)
        add("GET", "/_sim/notifications", self.notifications)
        add("POST", "/_sim/tokens/revoke", self.revoke)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = webob.Request(environ)
        call = Call(req=req, base_url=req.host_url, is_admin=True)
        try:
            code, body = self.router.dispatch(call, req.path_info)
        except NovaError as exc:
            code, body = exc.code, {"error": exc.message}
        except (ValueError, KeyError, TypeError) as exc:
            code, body = 400, {"error": str(exc)}
        return json_response(code, body)(environ, start_response)

    def state(self, call: Call) -> Reply:
        cloud = self.sim.cloud
        with cloud.lock:
            hosts = []
            for svc in cloud.compute_services():
                provider = cloud.placement.providers[svc.host]
                vcpus, ram, disk = provider.used
                hosts.append({
                    "host": svc.host, "service_id": svc.uuid, "failed": svc.failed_at is not None,
                    "state": "up" if cloud.service_is_up(svc) else "down",
                    "forced_down": svc.forced_down, "disabled": svc.disabled,
                    "zone": cloud.zone_of(svc.host), "provider": provider.uuid,
                    "servers": len(cloud.servers_on(svc.host)), "used_vcpus": vcpus,
                    "used_ram_mb": ram, "used_disk_gb": disk, "vcpus": svc.vcpus,
                    "ram_mb": svc.ram_mb,
                    # Placement's view: (total - reserved) x ratio, and what is left of it.
                    "capacity": {rc: inv.capacity
                                 for rc, inv in provider.inventories.items()},
                    "free": dict(zip(RESOURCE_CLASSES, provider.free(), strict=True))})
            by_state = Counter(s.vm_state for s in cloud.servers.values())
            migrations = Counter(m.status for m in cloud.migrations)
        return 200, {"hosts": hosts, "servers": len(cloud.servers),
                     "servers_by_state": dict(by_state), "migrations": dict(migrations),
                     "service_down_time": cloud.service_down_time, "idle": self.sim.idle(),
                     "projects": dict(cloud.projects)}

    def servers(self, call: Call) -> Reply:
        host = call.param("host")
        cloud = self.sim.cloud
        with cloud.lock:
            found = [{"id": s.id, "name": s.name, "host": s.host, "status": status(s),
                      "vm_state": s.vm_state, "task_state": s.task_state,
                      "power_state": s.power_state, "locked": s.locked,
                      "locked_reason": s.locked_reason, "locked_by": s.locked_by,
                      "metadata": dict(s.metadata), "tags": list(s.tags),
                      "project_id": s.project_id, "flavor": s.flavor.name,
                      "server_group": s.server_group}
                     for s in sorted(cloud.servers.values(), key=lambda s: s.seq)
                     if host is None or s.host == host]
        return 200, {"servers": found}

    def set_server(self, call: Call, server_id: str) -> Reply:
        """Set one server's fields as Nova would hold them (see ``states.apply_fields``);
        400 with the reason for a combination Nova cannot hold, 404 for an unknown id."""
        cloud = self.sim.cloud
        with cloud.lock:
            server = cloud.servers.get(server_id)
            if server is None:
                raise NovaError(404, f"unknown server {server_id}")
            states.apply_fields(server, call.body())
            return 200, {"id": server.id, "status": status(server),
                         "vm_state": server.vm_state, "task_state": server.task_state,
                         "power_state": server.power_state, "locked": server.locked,
                         "locked_reason": server.locked_reason,
                         "locked_by": server.locked_by, "metadata": dict(server.metadata),
                         "tags": list(server.tags)}

    def fail(self, call: Call, host: str) -> Reply:
        immediate = bool(call.body().get("immediate", False)) if call.req.body else False
        with self.sim.cloud.lock:
            if self.sim.cloud.compute_service(host) is None:
                raise NovaError(404, f"unknown host {host}")
            self.sim.cloud.fail_host(host, immediate=immediate)
        return 200, {"host": host, "failed": True}

    def revive(self, call: Call, host: str) -> Reply:
        with self.sim.cloud.lock:
            if self.sim.cloud.compute_service(host) is None:
                raise NovaError(404, f"unknown host {host}")
            self.sim.cloud.revive_host(host)
        return 200, {"host": host, "failed": False}

    def set_faults(self, call: Call) -> Reply:
        self.sim.dice.update(call.body())
        return 200, self.sim.dice.as_dict()

    def set_config(self, call: Call) -> Reply:
        body = call.body()
        cloud = self.sim.cloud
        with cloud.lock:
            if "service_down_time" in body:
                cloud.service_down_time = float(body["service_down_time"])
            if "report_interval" in body:
                for svc in cloud.services.values():
                    heartbeat.rebase(svc, cloud.wall(), cloud.report_interval)
                cloud.report_interval = float(body["report_interval"])
        return 200, {"service_down_time": cloud.service_down_time,
                     "report_interval": cloud.report_interval}

    def requests(self, call: Call) -> Reply:
        since = int(call.param("since") or 0)
        return 200, {"summary": self.sim.requests.summary(),
                     "entries": self.sim.requests.entries(since)}

    def clear_requests(self, call: Call) -> Reply:
        self.sim.requests.clear()
        return 200, {"cleared": True}

    def notifications(self, call: Call) -> Reply:
        queue = self.sim.notifications
        return 200, {"stats": queue.stats(), "recent": list(queue.recent)}

    def revoke(self, call: Call) -> Reply:
        self.sim.identity.revoke_all()
        return 200, {"revoked": True}
