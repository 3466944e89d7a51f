"""A small client for the simulator's /_sim/ control API (tests, demo, bench).

Usage::

    ctl = ControlClient("http://127.0.0.1:PORT")
    ctl.fail_host("compute1", immediate=True)
    ctl.wait(lambda: ctl.server(vm_id)["host"] != "compute1", timeout=30)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests


class ControlClient:
    """Thin wrapper; every method returns the decoded JSON and raises on HTTP errors."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, f"{self.url}/_sim/{path}", json=body,
                                      params=params, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any]:
        """{"status": "ok", "idle": bool}."""
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def state(self) -> dict[str, Any]:
        """Hosts (up/down, usage), server counts by state, migrations by status."""
        result: dict[str, Any] = self._call("GET", "state")
        return result

    def servers(self, host: str | None = None) -> list[dict[str, Any]]:
        """Every server (or those on ``host``) with host, vm/task/power state, lock."""
        params = {"host": host} if host else None
        result: list[dict[str, Any]] = self._call("GET", "servers", params=params)["servers"]
        return result

    def server(self, server_id: str) -> dict[str, Any]:
        """One server's control view."""
        for server in self.servers():
            if server["id"] == server_id:
                return server
        raise KeyError(server_id)

    def set_server(self, server_id: str, **fields: Any) -> dict[str, Any]:
        """Set a server's fields as Nova would hold them: ``vm_state``, ``task_state``
        (None clears), ``power_state`` (default: the one vm_state implies), ``metadata``
        (merged) or ``metadata_replace``, ``locked``, ``locked_reason``, ``locked_by``
        ("owner"/"admin"), ``tags``. Returns the new fields; HTTPError 400 when Nova could
        not hold the combination."""
        result: dict[str, Any] = self._call("PATCH", f"servers/{server_id}", fields)
        return result

    def fail_host(self, host: str, immediate: bool = False) -> None:
        """The host stops heartbeating (down after service_down_time, or now)."""
        self._call("POST", f"hosts/{host}/fail", {"immediate": immediate})

    def revive_host(self, host: str) -> None:
        """The host's compute service comes back."""
        self._call("POST", f"hosts/{host}/revive", {})

    def set_faults(self, **rates: Any) -> dict[str, Any]:
        """Change fault rates or latency distributions (see FaultRates)."""
        result: dict[str, Any] = self._call("PUT", "faults", rates)
        return result

    def set_service_down_time(self, seconds: float) -> None:
        """Nova's service_down_time."""
        self._call("PUT", "config", {"service_down_time": seconds})

    def set_report_interval(self, seconds: float) -> None:
        """Nova's report_interval: how often a live service's ``updated_at`` advances."""
        self._call("PUT", "config", {"report_interval": seconds})

    def requests(self, since: int = 0) -> dict[str, Any]:
        """{"summary": {...counts...}, "entries": [...]}."""
        result: dict[str, Any] = self._call("GET", "requests", params={"since": since})
        return result

    def server_actions(self, action: str | None = None, since: int = 0
                       ) -> list[dict[str, Any]]:
        """Logged ``POST /servers/{id}/action`` requests in order: {"seq", "server_id",
        "action", "status", "microversion"}; only ``action`` ones when given."""
        found = []
        for entry in self.requests(since)["entries"]:
            if entry.get("action") and (action is None or entry["action"] == action):
                server_id = entry["path"].rstrip("/").split("/")[-2]
                found.append({"seq": entry["seq"], "server_id": server_id,
                              "action": entry["action"], "status": entry["status"],
                              "microversion": entry["microversion"]})
        return found

    def clear_requests(self) -> None:
        """Forget logged requests."""
        self._call("DELETE", "requests")

    def notifications(self) -> dict[str, Any]:
        """{"stats": {emitted, published, dropped, ...}, "recent": [...]}."""
        result: dict[str, Any] = self._call("GET", "notifications")
        return result

    def revoke_tokens(self) -> None:
        """Invalidate every issued token."""
        self._call("POST", "tokens/revoke", {})

    def wait(self, condition: Callable[[], bool], timeout: float, what: str = "condition",
             interval: float = 0.05) -> None:
        """Poll ``condition`` until true; TimeoutError naming ``what`` otherwise."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not reached after {timeout} s")
            time.sleep(interval)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until no evacuation/power change is pending and notifications are handed over."""
        self.wait(lambda: bool(self.health()["idle"]), timeout, "simulator idle")
