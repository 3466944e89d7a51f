"""A small client of RabbitMQ's management HTTP API (policies, exchanges, queues, bindings).

::

    admin = BrokerAdmin("http://rabbit1:15672", "admin", "secret")
    admin.policies("/")                       # [{"name", "pattern", "apply-to", ...}, ...]
    admin.put_policy("/", "host-recovery-nova", {"pattern": ..., "definition": {...}})

Plain ``urllib`` (no HTTP library dependency): a handful of JSON calls with basic auth.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

__all__ = ["BrokerAdmin", "BrokerAdminError"]


class BrokerAdminError(RuntimeError):
    """The management API could not be reached or refused a call."""


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


class BrokerAdmin:
    """JSON calls on ``<url>/api/...`` with one user's credentials."""

    def __init__(self, url: str, user: str, password: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._auth = f"Basic {token}"
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One API call; the decoded JSON answer (None when empty)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310  (an operator-given http(s) URL)
            f"{self.url}/api/{path}", data=data, method=method,
            headers={"Authorization": self._auth, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise BrokerAdminError(f"{method} {path}: HTTP {exc.code} {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise BrokerAdminError(f"{method} {path}: {exc}") from exc
        return json.loads(raw) if raw.strip() else None

    def policies(self, vhost: str) -> list[dict[str, Any]]:
        """Every (user) policy of ``vhost``."""
        found: list[dict[str, Any]] = self.call("GET", f"policies/{_q(vhost)}")
        return found

    def put_policy(self, vhost: str, name: str, policy: dict[str, Any]) -> None:
        """Create or replace policy ``name`` (pattern, definition, apply-to, priority)."""
        self.call("PUT", f"policies/{_q(vhost)}/{_q(name)}", policy)

    def put_exchange(self, vhost: str, name: str, kind: str, durable: bool = True) -> None:
        """Declare an exchange (idempotent when the properties match)."""
        self.call("PUT", f"exchanges/{_q(vhost)}/{_q(name)}",
                  {"type": kind, "durable": durable, "auto_delete": False})

    def put_queue(self, vhost: str, name: str, arguments: dict[str, Any]) -> None:
        """Declare a durable queue (idempotent when the arguments match)."""
        self.call("PUT", f"queues/{_q(vhost)}/{_q(name)}",
                  {"durable": True, "auto_delete": False, "arguments": arguments})

    def bind(self, vhost: str, exchange: str, queue: str, routing_key: str) -> None:
        """Bind ``queue`` to ``exchange`` with ``routing_key`` (idempotent)."""
        self.call("POST", f"bindings/{_q(vhost)}/e/{_q(exchange)}/q/{_q(queue)}",
                  {"routing_key": routing_key})

    def queue(self, vhost: str, name: str) -> dict[str, Any] | None:
        """The queue's management record, or None when it does not exist."""
        try:
            found: dict[str, Any] = self.call("GET", f"queues/{_q(vhost)}/{_q(name)}")
        except BrokerAdminError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        return found
