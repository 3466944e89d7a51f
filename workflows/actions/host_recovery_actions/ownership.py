"""What on a VM is ours: this incident's lock, this incident's evacuation.

Exact, never by prefix: a lock is ours when its reason names this incident (Nova 2.73+) or,
below 2.73 (no lock reason), when the VM was not locked when this incident planned (the
plan's ``locked_before``, the incident's own record). A VM rebuilding is ours only when its
newest evacuation migration is still running and was created no earlier than this incident's
fence step (both Nova timestamps); a user's rebuild makes no evacuation migration.
"""

from __future__ import annotations

from typing import Any

from .policy import LOCK_PREFIX
from .source_check import nova_time

__all__ = ["ENDED_MIGRATION", "lock_reason", "ours_locked", "rebuilding_not_ours"]

ENDED_MIGRATION = ("done", "completed", "failed", "error", "cancelled", "confirmed",
                   "reverted")


def lock_reason(incident_id: str) -> str:
    """Our lock reason: it names the incident."""
    return f"{LOCK_PREFIX} incident {incident_id}"


def ours_locked(nova: Any, server: dict[str, Any], incident_id: str,
                instance: dict[str, Any]) -> bool:
    """Whether the VM's lock is this incident's."""
    if not server.get("locked"):
        return False
    if nova.at_least("2.73"):
        return server.get("locked_reason") == lock_reason(incident_id)
    return not instance.get("locked_before", True)


def rebuilding_not_ours(nova: Any, server: dict[str, Any],
                        source: dict[str, Any] | None) -> bool:
    """Rebuilding, but not by an evacuation this incident had accepted (busy in Nova)."""
    if server.get("OS-EXT-STS:task_state") != "rebuilding":
        return False
    migrations = nova.evacuations(str(server["id"]))
    if not migrations or migrations[0].get("status") in ENDED_MIGRATION:
        return True
    since = nova_time((source or {}).get("updated_at"))
    created = nova_time(migrations[0].get("created_at"))
    return since is not None and created is not None and created < since
