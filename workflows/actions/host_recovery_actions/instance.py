"""Per-VM actions of ``host_recovery.recover_instance``: prepare (lock, reset), evacuate
(idempotent, after re-checking that the source host is still dead), restore the original
state, finish (unlock our own lock, record, notify).

Ownership is exact (``ownership``): a VM rebuilding but not by our evacuation is busy in
Nova; we wait for its task to end (bounded) instead of claiming it.
"""

from __future__ import annotations

import time
from typing import Any

from oslo_log import log as logging

from . import events, runtime, source_check
from .base import Action, execution_ids, now_iso, seconds_since
from .nova import NovaError, NovaUnavailable
from .ownership import lock_reason, ours_locked, rebuilding_not_ours
from .placement import PlacementClient

LOG = logging.getLogger(__name__)
HOST = "OS-EXT-SRV-ATTR:host"
VM_STATE = "OS-EXT-STS:vm_state"
TASK_STATE = "OS-EXT-STS:task_state"
BUSY_WAIT = 30.0  # at most this long for someone else's task (within the task's timeout)


class _Lazy:
    """Formats ``text % args`` only when the log line is emitted."""

    def __init__(self, text: str, args: tuple[Any, ...]) -> None:
        self.text, self.args = text, args

    def __str__(self) -> str:
        return self.text % self.args


class _InstanceAction(Action):
    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 kwargs: dict[str, Any]) -> None:
        self.incident_id = incident_id
        self.instance = instance
        self.source_host = source_host
        self.instance_id = str(instance["id"])
        self.kwargs = kwargs

    def _log(self, context: Any, level: int, text: str, *args: Any) -> None:
        LOG.log(level, "incident %s host %s execution %s instance %s: %s", self.incident_id,
                self.source_host, execution_ids(context)["workflow_execution_id"],
                self.instance_id, _Lazy(text, args))


class PrepareInstanceAction(_InstanceAction):
    """Lock with a reason naming the incident (not a user-locked VM), reset if planned;
    nothing when the source host is back and was never proven dead."""

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 source: dict[str, Any] | None = None) -> None:
        super().__init__(incident_id, instance, source_host, {"source": source})

    def run(self, context: Any) -> dict[str, Any]:
        nova = runtime.build().nova
        verdict = source_check.check(nova, self.kwargs.get("source"), self.source_host)
        if verdict["stop"]:
            self._log(context, 30, "not prepared: %s", verdict["reason"])
            return {"started_at": time.time(), "locked_by_us": False,
                    "source_returned": verdict["reason"]}
        server = nova.server(self.instance_id)
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
        return {"started_at": time.time(), "locked_by_us": locked_by_us}


class EvacuateAction(_InstanceAction):
    """Evacuate unless it already moved or our evacuation runs (a re-run never evacuates
    twice), and only while the source host is still dead (``source_check``).

    Output ``{"status": accepted|in_progress|moved|refused|host_returned|no_room, "accepted_at",
    "reason", "source_returned"}``; Nova unavailable raises (the task's retry runs it again
    and sees what Nova did).
    """

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 target_host: str | None = None, on_shared_storage: bool = False,
                 attempt: int = 1, source: dict[str, Any] | None = None) -> None:
        super().__init__(incident_id, instance, source_host, {
            "target_host": target_host, "on_shared_storage": on_shared_storage,
            "attempt": attempt, "source": source})

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        nova = rt.nova
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


class RestoreStateAction(_InstanceAction):
    """Bring the VM to its expected state (from 2.95 an ACTIVE VM ends STOPPED: start it)."""

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 expected_state: str | None = None) -> None:
        super().__init__(incident_id, instance, source_host,
                         {"expected_state": expected_state})

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        nova = rt.nova
        wanted = str(self.kwargs.get("expected_state") or "active")
        deadline = time.monotonic() + rt.conf.recovery.poll_limit
        asked = False
        while True:
            server = nova.server(self.instance_id)
            vm_state, task_state = server.get(VM_STATE), server.get(TASK_STATE)
            if vm_state == wanted and not task_state:
                return {"final_state": vm_state, "host": server.get(HOST)}
            if not task_state and not asked:
                if wanted == "active" and vm_state == "stopped":
                    nova.start(self.instance_id)
                elif wanted == "stopped" and vm_state == "active":
                    nova.stop(self.instance_id)
                else:
                    raise RuntimeError(f"cannot bring {vm_state} to {wanted}")
                asked = True
                self._log(context, 20, "%s -> %s requested", vm_state, wanted)
            if time.monotonic() > deadline:
                raise RuntimeError(f"still {vm_state}/{task_state}, expected {wanted}")
            time.sleep(rt.conf.recovery.poll_interval)


class FinishInstanceAction(_InstanceAction):
    """Unlock (if we locked it), build the per-VM record, send the instance notification."""

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 result: str = "failed", reason: str | None = None,
                 outcome: dict[str, Any] | None = None, final_state: str | None = None,
                 attempts: int = 0, started_at: float | None = None,
                 locked_by_us: bool = False, attempt: int = 1) -> None:
        super().__init__(incident_id, instance, source_host, {
            "result": result, "reason": reason, "outcome": outcome,
            "final_state": final_state, "attempts": attempts, "started_at": started_at,
            "locked_by_us": locked_by_us, "attempt": attempt})

    def _unlock_ours(self, nova: Any, context: Any) -> None:
        """Unlock only this incident's lock: from 2.73 its reason must still be ours (a user
        may have unlocked and locked it again meanwhile)."""
        try:
            if nova.at_least("2.73"):
                reason = nova.server(self.instance_id).get("locked_reason")
                if reason != lock_reason(self.incident_id):
                    self._log(context, 30, "not unlocked: the lock is not ours (%s)", reason)
                    return
            nova.unlock(self.instance_id)
        except NovaError as exc:
            self._log(context, 30, "unlock failed: %s", exc.message)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        kw = self.kwargs
        if kw.get("locked_by_us"):
            self._unlock_ours(rt.nova, context)
        outcome = kw.get("outcome") or {}
        result = str(kw.get("result") or "failed")
        reason = kw.get("reason")
        if result != "evacuated" and not reason:
            reason = outcome.get("fault") or "evacuation failed"
        record = events.record(
            self.instance, self.source_host, result, reason,
            original_state=self.instance.get("original_state"),
            final_state=kw.get("final_state") or outcome.get("vm_state"),
            dest_host=outcome.get("host") if result == "evacuated" else None,
            attempts=int(kw.get("attempts") or 0), seconds=seconds_since(kw.get("started_at")))
        self._log(context, 20 if result == "evacuated" else 40, "%s %s -> %s (%s)", result,
                  self.source_host, record["dest_host"], reason)
        rt.notify(*events.instance(record, self.incident_id, int(kw.get("attempt") or 1),
                                   execution_ids(context)["workflow_execution_id"]),
                  priority="info" if result == "evacuated" else "error")
        return record
