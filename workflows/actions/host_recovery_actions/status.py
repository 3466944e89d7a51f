"""Whether an evacuation has ended, read from Nova (used by the wait and the polling).

"Evacuated" is contract.is_evacuated, the rule the listener applies to Nova's notifications.
"""

from __future__ import annotations

from typing import Any

from . import contract

__all__ = ["check"]


def check(nova: Any, instance_id: str, source_host: str,
          expect_started: bool = False) -> dict[str, Any] | None:
    """The outcome if the evacuation has ended, else None.

    evacuated: on another host, no task_state, ACTIVE or STOPPED. error: ERROR with no
    task_state (Nova's fault message), or the latest evacuation migration failed while the
    VM stayed on the source host. not_started (only with ``expect_started``: a wait timed
    out): still on the source host, no task, no failed evacuation: Nova's API marks a VM
    ``rebuilding`` before it accepts an evacuation, so Nova was never asked.
    """
    server = nova.server(instance_id)
    host = server.get("OS-EXT-SRV-ATTR:host")
    vm_state = server.get("OS-EXT-STS:vm_state")
    if server.get("OS-EXT-STS:task_state"):
        return None
    if contract.is_evacuated(host, source_host, vm_state):
        return {"result": "evacuated", "host": host, "vm_state": vm_state, "fault": None}
    fault = (server.get("fault") or {}).get("message")
    if vm_state == "error":
        return {"result": "error", "host": host, "vm_state": vm_state,
                "fault": fault or "ERROR without a fault"}
    migrations = nova.evacuations(instance_id)
    if migrations and migrations[0].get("status") in ("error", "failed"):
        return {"result": "error", "host": host, "vm_state": vm_state,
                "fault": fault or f"evacuation migration {migrations[0].get('status')}"}
    if expect_started and host == source_host:
        return {"result": "not_started", "host": host, "vm_state": vm_state,
                "fault": "the evacuation never started (its action was lost before Nova "
                         "accepted it)"}
    return None
