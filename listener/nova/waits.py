"""Waiting evacuations as Mistral stores them: RUNNING wait actions, read through the
listener's Mistral facade with a short per-process cache, and completed through it.

    store = MistralWaits(MistralAPI.from_conf(conf), wait_action=contract.WAIT_EVACUATION,
                         instance_workflow=contract.RECOVER_INSTANCE)
    for wait in store.running_waits():
        if wait.instance_id == uuid:
            store.complete(wait.id, {"result": "evacuated", ...})

Waits and recoveries are matched on typed fields of their input (contract.WaitInput's
``instance_id`` and ``incident_id``, the instance workflow's ``instance.id``).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from notifications import contract
from notifications.contract import ActionAlreadyCompleted, MistralNotFound

__all__ = ["Completion", "MistralWaits", "Recovery", "Wait"]


class Completion(enum.Enum):
    COMPLETED = "completed"
    DUPLICATE = "duplicate"  # "already completed": another listener won; done
    GONE = "gone"  # 404: the wait no longer exists; nothing to do


class Recovery(NamedTuple):
    """A RUNNING instance-workflow execution and the incident it belongs to."""

    execution_id: str
    incident_id: str | None


@dataclass(frozen=True)
class Wait:
    """One RUNNING wait action execution (``input`` as contract.wait_input returns it)."""

    id: str
    instance_id: str
    input: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    evacuates: bool = False  # the wait evacuates after its creation (its input has the VM)

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
        """Epoch when this evacuation began: the input's ``accepted_at``, or for a wait that
        evacuates when Mistral created it (an event sent before is an earlier attempt's;
        Mistral's second-resolution time errs early, towards accepting an event)."""
        given = contract.accepted_epoch(self.input.get("accepted_at"))
        if given is None and self.evacuates:
            return contract.accepted_epoch(self.created_at)
        return given


class Reads(Protocol):
    """What the cache needs from listener.mistral_api.MistralAPI."""

    def list_executions(self, fields: Any = None, limit: Any = None,
                        **filters: str) -> list[dict[str, Any]]: ...

    def list_tasks(self, fields: Any = None, **filters: str) -> list[dict[str, Any]]: ...

    def list_action_executions(self, name: str, state: str | None = "RUNNING",
                               fields: Any = None, **filters: str
                               ) -> list[dict[str, Any]]: ...

    def list_task_action_executions(self, task_execution_id: str, fields: Any = None
                                    ) -> list[dict[str, Any]]: ...

    def complete_action(self, action_execution_id: str, output: dict[str, Any],
                        state: str = "SUCCESS") -> dict[str, Any]: ...


class MistralWaits:
    """Finds and completes waits; lists are cached for ``cache_ttl`` (≤ 1 s) per process."""

    def __init__(self, api: Reads, wait_action: str = contract.WAIT_EVACUATION,
                 instance_workflow: str = contract.RECOVER_INSTANCE, cache_ttl: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.wait_action = wait_action
        self.instance_workflow = instance_workflow
        self.cache_ttl = min(cache_ttl, 1.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}

    # -- reads ------------------------------------------------------------------------------
    def running_waits(self, fresh: bool = False) -> list[Wait]:
        """Every RUNNING wait action (one list call, shared by all handler threads)."""
        waits: list[Wait] = self._cached("waits", fresh, self._load_waits)
        return list(waits)

    def recovering(self, instance_id: str, fresh: bool = False) -> list[Recovery]:
        """RUNNING instance-workflow executions recovering ``instance_id``."""
        rows = self._cached("executions", fresh, lambda: self.api.list_executions(
            fields=["id", "input"], workflow_name=self.instance_workflow, state="RUNNING"))
        return [Recovery(str(row["id"]), _incident(row.get("input"))) for row in rows
                if contract.instance_id_of(row.get("input")) == instance_id]

    def finished_wait(self, recovery: Recovery, instance_id: str) -> bool:
        """True if ``recovery`` already has a completed wait for ``instance_id``.

        One call per ended task: Mistral types task_execution_id as a uuid, so ``in:`` is
        refused (400). Only reached for an event whose instance has no RUNNING wait.
        """
        tasks = self.api.list_tasks(fields=["id", "state"],
                                    workflow_execution_id=recovery.execution_id)
        for task in tasks:
            if task.get("state") == "RUNNING":
                continue
            rows = self.api.list_task_action_executions(
                str(task["id"]), fields=["id", "name", "state", "input"])
            for row in rows:
                wait = contract.wait_input(row.get("input"))
                if (row.get("name") == self.wait_action and row.get("state") != "RUNNING"
                        and wait is not None
                        and wait["instance_id"] == instance_id
                        and wait["incident_id"] == recovery.incident_id):
                    return True
        return False

    # -- completion -------------------------------------------------------------------------
    def complete(self, action_execution_id: str, output: dict[str, Any]) -> Completion:
        """Complete with SUCCESS and ``output``; a second completion counts as done."""
        try:
            self.api.complete_action(action_execution_id, output)
        except ActionAlreadyCompleted:
            ended = Completion.DUPLICATE
        except MistralNotFound:
            ended = Completion.GONE
        else:
            ended = Completion.COMPLETED
        # not on an error (Mistral unreachable...): the wait still runs, the retry needs it
        self._forget(action_execution_id)
        return ended

    # -- internals --------------------------------------------------------------------------
    def _load_waits(self) -> list[Wait]:
        rows = self.api.list_action_executions(
            self.wait_action, fields=["id", "name", "state", "input", "created_at"])
        return [w for w in (_wait(row) for row in rows) if w is not None]

    def _forget(self, wait_id: str) -> None:
        """Drop an ended wait from the cached list rather than the whole list: clearing it
        cost one list call per confirmed VM (issue 13). A wait created since the list was
        read is seen once it expires (``cache_ttl``); the confirmer reads afresh before it
        calls an event a duplicate."""
        with self._lock:
            hit = self._cache.get("waits")
            if hit is not None:
                self._cache["waits"] = (hit[0], [w for w in hit[1] if w.id != wait_id])

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


def _incident(workflow_input: Any) -> str | None:
    value = workflow_input.get("incident_id") if isinstance(workflow_input, dict) else None
    return value if isinstance(value, str) else None


def _wait(row: dict[str, Any]) -> Wait | None:
    data = contract.decoded(row.get("input"))  # once per row and list call (the cache keeps Waits)
    wait = contract.wait_input(data)
    if wait is None:
        return None  # not a wait we can correlate: the workflow's fallback ends it
    return Wait(id=str(row["id"]), instance_id=wait["instance_id"], input=dict(wait),
                created_at=row.get("created_at"),
                evacuates=isinstance(data.get("instance"), dict))
