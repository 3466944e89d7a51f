"""Keystone's state: users from the scenario, issued tokens, and the service catalog."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


class Identity:
    """Password checks, token issue/validation, the catalog every token carries."""

    def __init__(self, credentials: list[dict[str, Any]], projects: dict[str, str],
                 region: str, ttl: float) -> None:
        self.region = region
        self.ttl = ttl
        self.projects = projects
        self.users = {c["user"]: dict(c, id=uuid.uuid5(uuid.NAMESPACE_URL, c["user"]).hex)
                      for c in credentials}
        self.endpoints: dict[str, tuple[str, str]] = {}  # type -> (name, url)
        self._tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add_endpoint(self, service_type: str, name: str, url: str) -> None:
        """Publish ``url`` for ``service_type`` in every later token's catalog."""
        self.endpoints[service_type] = (name, url)

    def check_password(self, user: str | None, user_id: str | None, password: str | None
                       ) -> dict[str, Any] | None:
        """The user record when name (or id) and password match."""
        for record in self.users.values():
            if user in (record["user"], None) and user_id in (record["id"], None) \
                    and (user or user_id) and record["password"] == password:
                return record
        return None

    def issue(self, user: dict[str, Any], project: str | None, methods: list[str],
              audit: str | None = None) -> tuple[str, dict[str, Any]]:
        """A new token id and its body (scoped to ``project`` name when given)."""
        now = time.time()
        domain = {"id": "default", "name": user.get("domain", "Default")}
        token: dict[str, Any] = {
            "methods": methods, "audit_ids": [audit or uuid.uuid4().hex[:22]],
            "user": {"id": user["id"], "name": user["user"], "domain": domain,
                     "password_expires_at": None},
            "issued_at": _iso(now), "expires_at": _iso(now + self.ttl),
        }
        if project is not None:
            token["project"] = {"id": self.projects[project], "name": project,
                                "domain": domain}
            token["is_domain"] = False
            token["roles"] = [{"id": uuid.uuid5(uuid.NAMESPACE_URL, r).hex, "name": r}
                              for r in user.get("roles", ["admin"])]
            token["catalog"] = self.catalog()
        token_id = "gAAAAA" + uuid.uuid4().hex + uuid.uuid4().hex
        with self._lock:
            self._tokens[token_id] = {"expires": now + self.ttl, "token": token}
        return token_id, token

    def validate(self, token_id: str | None) -> dict[str, Any] | None:
        """The token body, or None when unknown or expired."""
        if not token_id:
            return None
        with self._lock:
            entry = self._tokens.get(token_id)
        if entry is None or entry["expires"] < time.time():
            return None
        token: dict[str, Any] = entry["token"]
        return token

    def revoke_all(self) -> None:
        """Forget every token (clients must re-authenticate: tests of re-auth)."""
        with self._lock:
            self._tokens.clear()

    def catalog(self) -> list[dict[str, Any]]:
        """Keystone v3 catalog: public, internal and admin endpoints in one region."""
        entries = []
        for service_type, (name, url) in sorted(self.endpoints.items()):
            service_id = uuid.uuid5(uuid.NAMESPACE_URL, service_type).hex
            entries.append({"id": service_id, "type": service_type, "name": name,
                            "endpoints": [
                                {"id": uuid.uuid5(uuid.NAMESPACE_URL, f"{url}|{i}").hex,
                                 "interface": i, "region": self.region,
                                 "region_id": self.region, "url": url}
                                for i in ("public", "internal", "admin")]})
        return entries
