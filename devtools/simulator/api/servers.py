"""/servers: list, detail, show, and the server actions the recovery uses."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from simulator.api import views
from simulator.api.wsgi import Call, Reply, Router, truthy
from simulator.cloud import Cloud
from simulator.compute import ComputeActions
from simulator.errors import NovaError
from simulator.evacuation import Evacuator
from simulator.model import Server

MAX_LIMIT = 1000  # Nova's [api] max_limit


def _changes_since(value: str | None) -> float | None:
    """Nova's ``changes-since`` (ISO 8601; servers whose updated_at is at or after it) as an
    epoch; 400 as Nova answers a value it cannot parse. This cloud deletes no servers, so
    the deleted ones Nova would add are none."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise NovaError(400, f"Invalid input for query parameters changes-since. Value: "
                        f"{value}. '{value}' is not a 'date-time'") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _reject_extra(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        names = ", ".join(repr(k) for k in extra)
        verb = "were" if len(extra) > 1 else "was"
        raise NovaError(400, f"Invalid input for field/attribute evacuate. Value: {body}. "
                             f"Additional properties are not allowed ({names} {verb} "
                             "unexpected)")


class ServersAPI:
    """Handlers for /servers."""

    def __init__(self, cloud: Cloud, evacuator: Evacuator, actions: ComputeActions) -> None:
        self.cloud = cloud
        self.evacuator = evacuator
        self.actions = actions

    def register(self, router: Router) -> None:
        """Add this API's routes."""
        router.add("GET", "/servers", self.index)
        router.add("GET", "/servers/detail", self.detail)
        router.add("GET", "/servers/(?P<server_id>[^/]+)", self.show)
        router.add("POST", "/servers/(?P<server_id>[^/]+)/action", self.action)

    # -- reads ------------------------------------------------------------------------------
    def _select(self, call: Call) -> tuple[list[Server], list[dict[str, str]]]:
        """Filter, sort (newest first, as Nova) and paginate; return the page and links."""
        all_tenants = call.is_admin and truthy(call.param("all_tenants"))
        project = call.param("project_id") or call.param("tenant_id")
        if not all_tenants:
            project = call.actor.project_id
        host = call.param("host") if call.is_admin else None
        node = call.param("node") if call.is_admin else None
        wanted_status = call.param("status")
        name = call.param("name")
        name_re = re.compile(name) if name else None
        since = _changes_since(call.param("changes-since"))
        limit = MAX_LIMIT
        if call.param("limit") is not None:
            try:
                limit = min(int(call.param("limit") or ""), MAX_LIMIT)
            except ValueError as exc:
                raise NovaError(400, "limit param must be an integer") from exc
            if limit < 0:
                raise NovaError(400, "limit param must be positive")

        def wanted(s: Server) -> bool:
            return ((since is None or s.updated >= since)
                    and (project is None or s.project_id == project)
                    and (host is None or s.host == host)
                    and (node is None or s.host == node)
                    and (wanted_status is None or views.status(s) == wanted_status.upper())
                    and (name_re is None or name_re.search(s.name) is not None))

        marker = call.param("marker")
        with self.cloud.lock:
            ordered, position = self.cloud.servers_newest_first()
            # as Nova: the marker is any server (400 if unknown); the page resumes after it
            if marker is not None and marker not in position:
                raise NovaError(400, f"marker [{marker}] not found")
            start = position[marker] + 1 if marker is not None else 0
            page: list[Server] = []
            for server in ordered[start:] if start else ordered:
                if len(page) >= limit:
                    break
                if wanted(server):
                    page.append(server)
        links = []
        if page and len(page) == limit:
            # Nova adds "next" whenever a page is full, even if it is the last one.
            params = [(k, v) for k, v in call.req.GET.items() if k not in ("marker", "limit")]
            params += [("limit", str(limit)), ("marker", page[-1].id)]
            path = "servers/detail" if call.req.path_info.rstrip("/").endswith(
                "/detail") else "servers"
            links.append({"rel": "next",
                          "href": f"{call.base_url}/{path}?{urlencode(params)}"})
        return page, links

    def index(self, call: Call) -> Reply:
        page, links = self._select(call)
        body: dict[str, Any] = {"servers": [views.server_brief(call, s) for s in page]}
        if links:
            body["servers_links"] = links
        return 200, body

    def detail(self, call: Call) -> Reply:
        page, links = self._select(call)
        with self.cloud.lock:
            body: dict[str, Any] = {
                "servers": [views.server_detail(call, self.cloud, s) for s in page]}
        if links:
            body["servers_links"] = links
        return 200, body

    def show(self, call: Call, server_id: str) -> Reply:
        with self.cloud.lock:
            server = self.actions.server(server_id)
            if not call.is_admin and server.project_id != call.actor.project_id:
                raise NovaError(404, f"Instance {server_id} could not be found.")
            return 200, {"server": views.server_detail(call, self.cloud, server)}

    # -- actions ----------------------------------------------------------------------------
    def action(self, call: Call, server_id: str) -> Reply:
        body = call.body()
        if len(body) != 1:
            raise NovaError(400, "Malformed request body")
        name, arg = next(iter(body.items()))
        handler = {"evacuate": self._evacuate, "lock": self._lock, "unlock": self._unlock,
                   "os-resetState": self._reset, "os-stop": self._stop,
                   "os-start": self._start}.get(name)
        if handler is None:
            raise NovaError(400, f"There is no such action: {name}")
        self.actions.server(server_id)  # 404 before argument checks, as Nova's lookup
        return handler(call, server_id, arg)

    def _evacuate(self, call: Call, server_id: str, arg: Any) -> Reply:
        if not isinstance(arg, dict):
            raise NovaError(400, "Invalid input for field/attribute evacuate.")
        allowed = {"host", "adminPass"}
        if not call.at_least(2, 14):
            allowed.add("onSharedStorage")
            if "onSharedStorage" not in arg:
                raise NovaError(400, "Invalid input for field/attribute evacuate. "
                                     "'onSharedStorage' is a required property")
        if call.at_least(2, 29) and not call.at_least(2, 68):
            allowed.add("force")
        _reject_extra(arg, allowed)
        shared = truthy(str(arg.get("onSharedStorage", False)))
        if shared and arg.get("adminPass"):
            raise NovaError(400, "admin password can't be changed on existing disk")
        host = arg.get("host")
        # Before 2.29 a requested host bypassed the scheduler; from 2.29 only force does.
        force = bool(arg.get("force", False)) or (host is not None and not call.at_least(2, 29))
        self.evacuator.evacuate(server_id, host, force, call.at_least(2, 95), call.actor)
        if call.at_least(2, 14):
            return 200, None
        return 200, ({} if shared else
                     {"adminPass": arg.get("adminPass") or secrets.token_urlsafe(9)})

    def _lock(self, call: Call, server_id: str, arg: Any) -> Reply:
        reason = None
        if isinstance(arg, dict) and arg:
            if not call.at_least(2, 73) or set(arg) - {"locked_reason"}:
                raise NovaError(400, "Invalid input for field/attribute lock. "
                                     "Additional properties are not allowed")
            reason = str(arg["locked_reason"])
        self.actions.lock(server_id, reason, call.actor)
        return 202, None

    def _unlock(self, call: Call, server_id: str, arg: Any) -> Reply:
        self.actions.unlock(server_id, call.is_admin)
        return 202, None

    def _reset(self, call: Call, server_id: str, arg: Any) -> Reply:
        if not isinstance(arg, dict) or "state" not in arg:
            raise NovaError(400, "Invalid input for field/attribute os-resetState.")
        self.actions.reset_state(server_id, str(arg["state"]))
        return 202, None

    def _stop(self, call: Call, server_id: str, arg: Any) -> Reply:
        self.actions.stop(server_id, call.actor, call.is_admin)
        return 202, None

    def _start(self, call: Call, server_id: str, arg: Any) -> Reply:
        self.actions.start(server_id, call.actor, call.is_admin)
        return 202, None
