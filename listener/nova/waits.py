"""Waiting evacuations as Mistral stores them: RUNNING async wait actions, found and completed
over Mistral's REST API (requests; the listener's facade has no action-execution calls).

    store = MistralWaits("http://mistral:8989/v2", wait_action="host_recovery.wait_evacuation",
                         instance_workflow="host_recovery.recover_instance")
    for wait in store.running_waits():
        if wait.instance_id == uuid:
            store.complete(wait.id, {"result": "evacuated", ...})
"""

from __future__ import annotations

import enum
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

__all__ = ["Completion", "MistralRejected", "MistralUnavailable", "MistralWaits", "Wait"]

# input keys the wait action may use (issue 6 names them; accept the obvious spellings)
_ACCEPTED_KEYS = ("accepted_at", "evacuate_accepted_at", "evacuated_at", "started_at")


class MistralUnavailable(RuntimeError):
    """Mistral could not be reached or answered with a server error (transient)."""


class MistralRejected(RuntimeError):
    """Mistral refused the request (4xx): retrying cannot help."""


class Completion(enum.Enum):
    COMPLETED = "completed"
    DUPLICATE = "duplicate"  # 500 "already completed": another listener won; done
    GONE = "gone"  # 404: the wait no longer exists; nothing to do


@dataclass(frozen=True)
class Wait:
    """One RUNNING wait action execution."""

    id: str
    instance_id: str
    input: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None

    @property
    def incident_id(self) -> str | None:
        value = self.input.get("incident_id")
        return value if isinstance(value, str) else None

    @property
    def source_host(self) -> str | None:
        value = self.input.get("source_host")
        return value if isinstance(value, str) else None

    @property
    def accepted_at(self) -> float | None:
        """Epoch when Nova accepted this evacuation, if the wait's input says so."""
        for key in _ACCEPTED_KEYS:
            value = self.input.get(key)
            if isinstance(value, int | float):
                return float(value)
            if isinstance(value, str):
                return _epoch(value)
        return None


def _epoch(text: str) -> float | None:
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


class MistralWaits:
    """Finds and completes waits; lists are cached for ``cache_ttl`` (≤ 1 s) per process."""

    def __init__(self, api_url: str, wait_action: str, instance_workflow: str,
                 cache_ttl: float = 0.5, timeout: float = 10.0,
                 session: requests.Session | None = None,
                 headers: Callable[[], dict[str, str]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api_url = api_url.rstrip("/")
        self.wait_action = wait_action
        self.instance_workflow = instance_workflow
        self.cache_ttl = min(cache_ttl, 1.0)
        self.timeout = timeout
        self._session = session or requests.Session()
        self._headers = headers or dict
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}

    # -- reads ------------------------------------------------------------------------------
    def running_waits(self, fresh: bool = False) -> list[Wait]:
        """Every RUNNING wait action (one list call, shared by all handler threads)."""
        rows = self._cached("waits", fresh, lambda: self._get(
            "action_executions", name=self.wait_action, state="RUNNING",
            fields="id,name,state,input,created_at")["action_executions"])
        return [w for w in (_wait(row) for row in rows) if w is not None]

    def recovering(self, instance_id: str, fresh: bool = False) -> list[str]:
        """Ids of RUNNING per-instance executions whose input mentions ``instance_id``."""
        rows = self._cached("executions", fresh, lambda: self._get(
            "executions", workflow_name=self.instance_workflow, state="RUNNING",
            fields="id,input")["executions"])
        # the input's key for the VM is the workflow's business: match the uuid anywhere in it
        return [row["id"] for row in rows if instance_id in _text(row.get("input"))]

    def finished_wait(self, execution_id: str, instance_id: str) -> bool:
        """True if ``execution_id`` already has a completed wait for ``instance_id``.

        One call per ended task: Mistral types task_execution_id as a uuid, so ``in:`` is
        refused (400). Only reached for an event whose instance has no RUNNING wait.
        """
        tasks = self._get("tasks", workflow_execution_id=execution_id,
                          fields="id,state")["tasks"]
        for task in tasks:
            if task.get("state") == "RUNNING":
                continue
            rows = self._get("action_executions", name=self.wait_action,
                             task_execution_id=task["id"],
                             fields="id,state,input")["action_executions"]
            if any(row.get("state") != "RUNNING" and instance_id in _text(row.get("input"))
                   for row in rows):
                return True
        return False

    # -- completion -------------------------------------------------------------------------
    def complete(self, action_execution_id: str, output: dict[str, Any]) -> Completion:
        """PUT SUCCESS with ``output``; a second completion counts as done."""
        url = f"{self.api_url}/action_executions/{action_execution_id}"
        body = {"state": "SUCCESS", "output": output}
        try:
            resp = self._session.put(url, json=body, headers=self._headers(),
                                     timeout=self.timeout)
        except requests.RequestException as exc:
            raise MistralUnavailable(f"PUT {url}: {exc}") from exc
        self.invalidate()
        if resp.status_code == 200:
            return Completion.COMPLETED
        if resp.status_code == 404:
            return Completion.GONE
        if resp.status_code == 500 and "already completed" in resp.text:
            return Completion.DUPLICATE
        if 400 <= resp.status_code < 500:
            raise MistralRejected(f"PUT {url}: HTTP {resp.status_code} {resp.text[:300]}")
        raise MistralUnavailable(f"PUT {url}: HTTP {resp.status_code} {resp.text[:300]}")

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- internals --------------------------------------------------------------------------
    def _cached(self, key: str, fresh: bool, load: Callable[[], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and not fresh and now - hit[0] < self.cache_ttl:
                return hit[1]
        value = load()
        with self._lock:
            self._cache[key] = (now, value)
        return value

    def _get(self, path: str, **params: str) -> dict[str, Any]:
        url = f"{self.api_url}/{path}"
        try:
            resp = self._session.get(url, params={**params, "limit": "1000"},
                                     headers=self._headers(), timeout=self.timeout)
        except requests.RequestException as exc:
            raise MistralUnavailable(f"GET {url}: {exc}") from exc
        if 400 <= resp.status_code < 500:
            raise MistralRejected(f"GET {url}: HTTP {resp.status_code} {resp.text[:300]}")
        if resp.status_code != 200:
            raise MistralUnavailable(f"GET {url}: HTTP {resp.status_code} {resp.text[:300]}")
        body: dict[str, Any] = resp.json()
        return body


def _text(value: Any) -> str:
    """Mistral returns input as a dict or as its JSON text, depending on the endpoint."""
    return value if isinstance(value, str) else json.dumps(value)


def _wait(row: dict[str, Any]) -> Wait | None:
    raw = row.get("input")
    data = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(data, dict) or not isinstance(data.get("instance_id"), str):
        return None  # not a wait we can correlate: the workflow's fallback ends it
    return Wait(id=row["id"], instance_id=data["instance_id"], input=data,
                created_at=row.get("created_at"))
