"""Per-VM actions of ``host_recovery.recover_instance``: prepare (lock, reset), evacuate
(idempotent, after re-checking that the source host is still dead; its first attempt
prepares), restore the original state (``restore``); finish (unlock our own lock, record,
notify, after restoring when asked) lives in ``finish``.

Ownership is exact (``ownership``): a VM rebuilding but not by our evacuation is busy in
Nova; we wait for its task to end (bounded) instead of claiming it.
"""

from __future__ import annotations

import time
from typing import Any

from . import restore, runtime, source_check
from .base import now_iso
from .finish import FinishInstanceAction
from .nova import NovaError, NovaUnavailable
from .ownership import lock_reason, ours_locked, rebuilding_not_ours
from .placement import PlacementClient
from .vm_action import InstanceAction

__all__ = ["EvacuateAction", "FinishInstanceAction", "PrepareInstanceAction",
           "RestoreStateAction"]

HOST = "OS-EXT-SRV-ATTR:host"
VM_STATE = "OS-EXT-STS:vm_state"
TASK_STATE = "OS-EXT-STS:task_state"
BUSY_WAIT = 30.0  # at most this long for someone else's task (within the task's timeout)


class PrepareInstanceAction(InstanceAction):
    """Lock with a reason naming the incident (not a user-locked VM), reset if planned;
    nothing when the source host is back and was never proven dead."""

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 source: dict[str, Any] | None = None) -> None:
        super().__init__(incident_id, instance, source_host, {"source": source})

    def run(self, context: Any) -> dict[str, Any]:
        return self.prepare(runtime.build().nova, context)[0]

    def prepare(self, nova: Any, context: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The prepared record and the server as read (None when it changed since: reset)."""
        verdict = source_check.check(nova, self.kwargs.get("source"), self.source_host)
        if verdict["stop"]:
            self._log(context, 30, "not prepared: %s", verdict["reason"])
            return {"started_at": time.time(), "locked_by_us": False,
                    "source_returned": verdict["reason"]}, None
        server: dict[str, Any] = nova.server(self.instance_id)
        locked_by_us = ours_locked(nova, server, self.incident_id, self.instance)
        if not server.get("locked"):
            nova.lock(self.instance_id, lock_reason(self.incident_id))
            locked_by_us = True
        on_source = server.get(HOST) == self.source_host
        if (self.instance.get("action") == "reset" and on_source
                and server.get(TASK_STATE) != "rebuilding"
                and (server.get(VM_STATE) != "active" or server.get(TASK_STATE))):
            nova.reset_state(self.instance_id, "active")
            self._log(context, 20, "state %s/%s reset to active", server.get(VM_STATE),
                      server.get(TASK_STATE))
            return {"started_at": time.time(), "locked_by_us": locked_by_us}, None
        return {"started_at": time.time(), "locked_by_us": locked_by_us}, server


class EvacuateAction(InstanceAction):
    """Evacuate unless it already moved or our evacuation runs (a re-run never evacuates
    twice), and only while the source host is still dead (``source_check``).

    Output ``{"status": accepted|in_progress|moved|refused|host_returned|no_room, "accepted_at",
    "reason", "source_returned"}``; Nova unavailable raises (the task's retry runs it again
    and sees what Nova did).
    """

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 target_host: str | None = None, on_shared_storage: bool = False,
                 attempt: int = 1, source: dict[str, Any] | None = None,
                 prepare: bool = False, prepared: dict[str, Any] | None = None) -> None:
        super().__init__(incident_id, instance, source_host, {
            "target_host": target_host, "on_shared_storage": on_shared_storage,
            "attempt": attempt, "source": source, "prepare": prepare,
            "prepared": prepared})

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        prepared = self.kwargs.get("prepared") or {}
        if not self.kwargs.get("prepare") or prepared.get("started_at"):
            return self.evacuate(rt, context)
        # prepare and evacuate in one task (one Mistral hand-over and one read less per
        # VM); a retry prepares again, which is idempotent (the lock names the incident)
        prepared, server = PrepareInstanceAction(
            self.incident_id, self.instance, self.source_host,
            self.kwargs.get("source")).prepare(rt.nova, context)
        if prepared.get("source_returned"):
            return {"status": "host_returned", "accepted_at": now_iso(),
                    "reason": prepared["source_returned"], "source_returned": True,
                    "prepared": prepared}
        return dict(self.evacuate(rt, context, server), prepared=prepared)

    def evacuate(self, rt: Any, context: Any,
                 server: dict[str, Any] | None = None) -> dict[str, Any]:
        """The evacuation's status; ``server`` is a read made just before, if any."""
        nova = rt.nova
        if server is None:
            server = nova.server(self.instance_id)
        if self._busy(nova, server):
            server = self._wait_task_end(rt, context)
            if self._busy(nova, server):
                return {"status": "refused", "accepted_at": now_iso(),
                        "reason": "busy in Nova: rebuilding, not by this incident, still "
                                  f"after {BUSY_WAIT:.0f} s"}
        state = self._state(server)
        if state is not None:
            return state
        verdict = source_check.check(nova, self.kwargs.get("source"), self.source_host)
        if verdict["stop"]:
            self._log(context, 30, "not evacuated, the source host is back and was never "
                      "proven dead: %s", verdict["reason"])
            return {"status": "host_returned", "accepted_at": now_iso(),
                    "reason": verdict["reason"], "source_returned": True}
        if verdict["returned"]:
            self._log(context, 30, "source host returned after fencing, recovery continues "
                      "(our force-down stays): %s", verdict["reason"])
        target = self.kwargs.get("target_host")
        if target and not self._room(rt, str(target)):
            # another incident or a new VM took the room since the plan: never send a VM
            # Nova would put in ERROR (NoValidHost); the next round re-plans it
            self._log(context, 30, "not evacuated: %s has no room for it any more", target)
            self._undo_error(nova, server, context)
            return {"status": "no_room", "accepted_at": now_iso(),
                    "reason": f"waiting_for_capacity: {target} has no room for it any more"}
        try:
            nova.evacuate(self.instance_id, self.kwargs.get("target_host"),
                          bool(self.kwargs.get("on_shared_storage")))
        except NovaError as exc:
            again = self._state(nova.server(self.instance_id))
            if again is not None and again["status"] != "refused":
                return again
            self._log(context, 40, "evacuate refused: %s", exc.message)
            return {"status": "refused", "accepted_at": now_iso(), "reason": exc.message}
        self._log(context, 20, "evacuation accepted (attempt %s, target %s)",
                  self.kwargs.get("attempt"), self.kwargs.get("target_host"))
        return {"status": "accepted", "accepted_at": now_iso(), "reason": None,
                "source_returned": verdict["returned"]}

    def _undo_error(self, nova: Any, server: dict[str, Any], context: Any) -> None:
        """An earlier attempt of ours that met NoValidHost left the VM in ERROR (Nova's
        conductor does so): it waits as it was, ACTIVE (Nova's reset-state offers only
        active or error; the plan keeps its expected state)."""
        if server.get(VM_STATE) == "error" and self.instance.get("original_state") != "error" \
                and int(self.kwargs.get("attempt") or 1) > 1:
            nova.reset_state(self.instance_id, "active")
            self._log(context, 30, "reset from ERROR (our earlier attempt's NoValidHost)")

    def _room(self, rt: Any, target: str) -> bool:
        """The planned target still has room (Placement unreadable: let Nova decide)."""
        demand = self.instance.get("demand")
        if not demand:
            return True
        try:
            return PlacementClient.from_nova(rt.nova, rt.conf).has_room(target, demand)
        except (NovaError, NovaUnavailable):
            return True

    def _busy(self, nova: Any, server: dict[str, Any]) -> bool:
        return rebuilding_not_ours(nova, server, self.kwargs.get("source"))

    def _wait_task_end(self, rt: Any, context: Any) -> dict[str, Any]:
        """Wait (bounded) for someone else's task on the VM to end; the server then."""
        self._log(context, 30, "busy in Nova (rebuilding, not ours): waiting for its task")
        deadline = time.monotonic() + min(BUSY_WAIT, float(rt.conf.recovery.poll_limit))
        while True:
            server: dict[str, Any] = rt.nova.server(self.instance_id)
            if not server.get(TASK_STATE) or time.monotonic() >= deadline:
                return server
            time.sleep(rt.conf.recovery.poll_interval)

    def _state(self, server: dict[str, Any]) -> dict[str, Any] | None:
        task_state = server.get(TASK_STATE)
        if task_state == "rebuilding":  # ours: _busy said so
            return {"status": "in_progress", "accepted_at": now_iso(),
                    "reason": "already rebuilding"}
        if server.get(HOST) != self.source_host and not task_state:
            return {"status": "moved", "accepted_at": now_iso(),
                    "reason": f"already on {server.get(HOST)}"}
        vm_state = server.get(VM_STATE)
        if task_state or vm_state not in ("active", "stopped", "error"):
            return {"status": "refused", "accepted_at": now_iso(),
                    "reason": f"cannot evacuate: vm_state {vm_state}, task_state {task_state}"}
        return None


class RestoreStateAction(InstanceAction):
    """Bring the VM to its expected state (from 2.95 an ACTIVE VM ends STOPPED: start it)."""

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 expected_state: str | None = None) -> None:
        super().__init__(incident_id, instance, source_host,
                         {"expected_state": expected_state})

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        return restore.restore(rt.nova, rt.conf, self.instance_id,
                               str(self.kwargs.get("expected_state") or "active"),
                               lambda *a: self._log(context, *a))[0]
