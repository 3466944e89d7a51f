"""``host_recovery.finish_instance``: restore the VM's original state when asked (the
evacuation ended), unlock our own lock, build the per-VM record, notify."""

from __future__ import annotations

from typing import Any

from . import events, restore, runtime
from .base import execution_ids, seconds_since
from .nova import NovaError
from .ownership import lock_reason
from .vm_action import InstanceAction

__all__ = ["FinishInstanceAction"]


class FinishInstanceAction(InstanceAction):
    """Unlock (if we locked it), build the per-VM record, send the instance notification."""

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 result: str = "failed", reason: str | None = None,
                 outcome: dict[str, Any] | None = None, final_state: str | None = None,
                 attempts: int = 0, started_at: float | str | None = None,
                 locked_by_us: bool = False, attempt: int = 1,
                 restore_state: str | None = None) -> None:
        super().__init__(incident_id, instance, source_host, {
            "result": result, "reason": reason, "outcome": outcome,
            "final_state": final_state, "attempts": attempts, "started_at": started_at,
            "locked_by_us": locked_by_us, "attempt": attempt,
            "restore_state": restore_state})

    def _unlock_ours(self, nova: Any, context: Any,
                     server: dict[str, Any] | None = None) -> None:
        """Unlock only this incident's lock: from 2.73 its reason must still be ours (a user
        may have unlocked and locked it again meanwhile; ``server``: a read made just
        before, else one now)."""
        try:
            if nova.at_least("2.73"):
                reason = (server or nova.server(self.instance_id)).get("locked_reason")
                if reason != lock_reason(self.incident_id):
                    self._log(context, 30, "not unlocked: the lock is not ours (%s)", reason)
                    return
            nova.unlock(self.instance_id)
        except NovaError as exc:
            self._log(context, 30, "unlock failed: %s", exc.message)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        kw = self.kwargs
        server = None
        if kw.get("restore_state"):
            # the evacuation ended: bring the VM back to its state here, not in a task of
            # its own (one Mistral hand-over less per VM); the read it ends with serves the
            # unlock's lock check. Nova unavailable raises: the task's retry runs it again.
            wanted = str(kw["restore_state"])
            try:
                done, server = restore.restore(rt.nova, rt.conf, self.instance_id, wanted,
                                               lambda *a: self._log(context, *a),
                                               known=kw.get("outcome"))
                kw.update(result="evacuated", final_state=done["final_state"])
            except (RuntimeError, NovaError) as exc:
                kw.update(result="failed",
                          reason=f"evacuated but not back in state {wanted}: {exc}")
        return self.finish(rt, context, server)

    def finish(self, rt: Any, context: Any,
               server: dict[str, Any] | None = None) -> dict[str, Any]:
        """Unlock, record, notify; ``server``: a read made just before, if any."""
        kw = self.kwargs
        if kw.get("locked_by_us"):
            self._unlock_ours(rt.nova, context, server)
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
