"""A small stateful fake of our Nova facade (evacuate moves the VM, as Nova would after
the rebuild) and of the Mistral facade, injected through ``runtime.FACTORY``."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from novaclient import api_versions

from host_recovery_actions import config
from host_recovery_actions.nova import NovaError
from host_recovery_actions.runtime import Runtime


def server(sid: str, host: str = "c1", vm_state: str = "active", task_state: str | None = None,
           metadata: dict[str, str] | None = None, locked: bool = False,
           locked_reason: str | None = None, name: str | None = None,
           extra_specs: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": sid, "name": name or f"vm-{sid}", "tenant_id": "p1",
            "OS-EXT-SRV-ATTR:host": host, "OS-EXT-STS:vm_state": vm_state,
            "OS-EXT-STS:task_state": task_state, "metadata": metadata or {},
            "locked": locked, "locked_reason": locked_reason,
            "flavor": {"extra_specs": extra_specs or {}}, "image": {"id": "img"}}


class FakeNova:
    """What NovaFacade offers; ``evacuate`` either finishes at once or leaves the VM
    rebuilding (``instant=False``) until ``finish()``."""

    def __init__(self, servers: list[dict[str, Any]], version: str = "2.95",
                 services: list[dict[str, Any]] | None = None, instant: bool = True) -> None:
        self.servers = {s["id"]: copy.deepcopy(s) for s in servers}
        self.version = api_versions.APIVersion(version)
        self.clock = datetime(2024, 1, 1, 10, 0, 0)  # Nova's own time: +1 s per write
        self.services = services or [
            {"id": f"u-{h}", "host": h, "state": "up" if h != "c1" else "down",
             "status": "enabled", "forced_down": False, "updated_at": self._tick()}
            for h in ("c1", "c2", "c3")]
        self.instant = instant
        self.calls: list[tuple[str, Any]] = []
        self.aggs: list[dict[str, Any]] = []
        self.image_props: dict[str, Any] = {}
        self.migrations: dict[str, list[dict[str, Any]]] = {}

    def _tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.isoformat() + ".000000"

    def heartbeat(self, host: str, up: bool = True) -> None:
        """The host's nova-compute reports again (a forced-down one stays down)."""
        for s in self.services:
            if s["host"] == host:
                s["updated_at"] = self._tick()
                s["state"] = "up" if up and not s["forced_down"] else "down"

    def at_least(self, version: str) -> bool:
        return bool(self.version >= api_versions.APIVersion(version))

    def compute_services(self, host: str | None = None) -> list[dict[str, Any]]:
        return [s for s in self.services if host is None or s["host"] == host]

    def force_down(self, service: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("force_down", service["host"]))
        for s in self.services:
            if s["host"] == service["host"]:
                s["forced_down"], s["state"], s["updated_at"] = True, "down", self._tick()
                return dict(s)
        raise NovaError(404, "no such service")

    def aggregates(self) -> list[dict[str, Any]]:
        return self.aggs

    def host_servers(self, host: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(s) for s in self.servers.values()
                if s["OS-EXT-SRV-ATTR:host"] == host]

    def server(self, sid: str) -> dict[str, Any]:
        return copy.deepcopy(self.servers[sid])

    def flavor_extra_specs(self, server: dict[str, Any]) -> dict[str, str]:
        return dict(server["flavor"]["extra_specs"])

    def image_properties(self, server: dict[str, Any]) -> dict[str, Any]:
        return dict(self.image_props)

    def lock(self, sid: str, reason: str) -> None:
        self.calls.append(("lock", sid))
        self.servers[sid].update(locked=True, locked_reason=reason)

    def unlock(self, sid: str) -> None:
        self.calls.append(("unlock", sid))
        self.servers[sid].update(locked=False, locked_reason=None)

    def reset_state(self, sid: str, state: str) -> None:
        self.calls.append(("reset_state", sid))
        self.servers[sid].update({"OS-EXT-STS:vm_state": state,
                                  "OS-EXT-STS:task_state": None})

    def start(self, sid: str) -> None:
        self.calls.append(("start", sid))
        self.servers[sid]["OS-EXT-STS:vm_state"] = "active"

    def stop(self, sid: str) -> None:
        self.calls.append(("stop", sid))
        self.servers[sid]["OS-EXT-STS:vm_state"] = "stopped"

    def evacuate(self, sid: str, host: str | None, on_shared_storage: bool) -> None:
        vm = self.servers[sid]
        if vm["OS-EXT-STS:task_state"] or vm["OS-EXT-STS:vm_state"] not in (
                "active", "stopped", "error"):
            raise NovaError(409, "Cannot 'evacuate' instance while it is in task_state")
        self.calls.append(("evacuate", sid))
        vm["OS-EXT-STS:task_state"] = "rebuilding"
        self.migrations.setdefault(sid, []).insert(0, {
            "instance_uuid": sid, "status": "accepted", "created_at": self._tick(),
            "migration_type": "evacuation"})
        vm["_dest"] = host or "c2"
        if self.instant:
            self.finish(sid)

    def finish(self, sid: str, error: str | None = None) -> None:
        vm = self.servers[sid]
        vm["OS-EXT-STS:task_state"] = None
        if self.migrations.get(sid):
            self.migrations[sid][0]["status"] = "error" if error else "done"
        if error:
            vm["OS-EXT-STS:vm_state"] = "error"
            vm["fault"] = {"message": error}
            return
        vm["OS-EXT-SRV-ATTR:host"] = vm.pop("_dest")
        if self.at_least("2.95"):
            vm["OS-EXT-STS:vm_state"] = "stopped"
        elif vm["OS-EXT-STS:vm_state"] == "error":
            vm["OS-EXT-STS:vm_state"] = "active"

    def evacuations(self, sid: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.migrations.get(sid, []))

    def count(self, name: str) -> int:
        return sum(1 for call, _ in self.calls if call == name)


class FakeMistral:
    def __init__(self, executions: list[dict[str, Any]] | None = None) -> None:
        self.executions_ = executions or []
        self.completed: list[tuple[str, str, dict[str, Any]]] = []
        self.running: list[dict[str, Any]] = []
        self.children: dict[str, list[str]] = {}
        self.cancelled: list[str] = []

    def execution(self, eid: str) -> dict[str, Any]:
        return next(e for e in self.executions_ if e["id"] == eid)

    def executions(self, name: str, limit: int = 500) -> list[dict[str, Any]]:
        return list(self.executions_)

    def complete(self, aid: str, state: str, output: dict[str, Any]) -> bool:
        self.completed.append((aid, state, output))
        return True

    def subworkflows(self, task_execution_id: str, state: str = "RUNNING"
                     ) -> list[dict[str, Any]]:
        return [{"id": i} for i in self.children.get(task_execution_id, [])]

    def cancel(self, execution_id: str, reason: str) -> bool:
        self.cancelled.append(execution_id)
        return True

    def running_actions(self, name: str, **match: Any) -> list[dict[str, Any]]:
        return [a for a in self.running if all(a["input"].get(k) == v
                                               for k, v in match.items())]


def runtime_with(nova: FakeNova, mistral: FakeMistral | None = None,
                 conf_text: str = "", tmp_path: Any = None
                 ) -> tuple[Runtime, list[tuple[str, dict[str, Any]]]]:
    """A Runtime over the fakes and a list collecting notifications."""
    path = None
    if tmp_path is not None:
        path = tmp_path / "actions.conf"
        path.write_text(conf_text)
    conf = config.load(str(path) if path else "/nonexistent/actions.conf")
    sent: list[tuple[str, dict[str, Any]]] = []
    rt = Runtime(conf, nova_factory=lambda c: nova,
                 mistral_factory=lambda c: mistral or FakeMistral(),
                 sender=lambda c, et, p, prio: sent.append((et, p)))
    return rt, sent
