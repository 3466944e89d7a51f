"""Nova's instance states: the valid vm_state and task_state values (nova/compute/
vm_states.py, task_states.py), the power_state a vm_state implies, the API ``status``
(nova/api/openstack/common.py's state map), and setting a server's fields as Nova holds them
(the control API's ``PATCH /_sim/servers/{id}``)."""

from __future__ import annotations

from typing import Any

from simulator.model import NOSTATE, RUNNING, SHUTDOWN, Server

VM_STATES = ("active", "building", "paused", "suspended", "stopped", "rescued", "resized",
             "soft-delete", "deleted", "error", "shelved", "shelved_offloaded")

_RESIZE = ("resize_prep", "resize_migrating", "resize_migrated", "resize_finish")
_REBUILD = ("rebuilding", "rebuild_block_device_mapping", "rebuild_spawning")
_REBOOT = ("rebooting", "reboot_pending", "reboot_started")
_HARD_REBOOT = ("rebooting_hard", "reboot_pending_hard", "reboot_started_hard")
TASK_STATES = (
    "scheduling", "block_device_mapping", "networking", "spawning", "image_snapshot",
    "image_snapshot_pending", "image_pending_upload", "image_uploading", "image_backup",
    "updating_password", *_RESIZE, "resize_reverting", "resize_confirming", *_REBOOT,
    *_HARD_REBOOT, "pausing", "unpausing", "suspending", "resuming", "powering-off",
    "powering-on", "rescuing", "unrescuing", *_REBUILD, "migrating", "deleting",
    "soft-deleting", "restoring", "shelving", "shelving_image_pending_upload",
    "shelving_image_uploading", "shelving_offloading", "unshelving")

PAUSED, SUSPENDED = 3, 7
# The power_state a VM settled in a vm_state has (a rescued or resized VM runs).
DEFAULT_POWER = {"active": RUNNING, "building": NOSTATE, "paused": PAUSED,
                 "suspended": SUSPENDED, "stopped": SHUTDOWN, "rescued": RUNNING,
                 "resized": RUNNING, "soft-delete": SHUTDOWN, "deleted": NOSTATE,
                 "error": SHUTDOWN, "shelved": SHUTDOWN, "shelved_offloaded": NOSTATE}
POWER_STATES = (0, 1, 3, 4, 6, 7)

_STATUS: dict[str, dict[str | None, str]] = {
    "active": {None: "ACTIVE", **dict.fromkeys(_REBOOT, "REBOOT"),
               **dict.fromkeys(_HARD_REBOOT, "HARD_REBOOT"),
               "updating_password": "PASSWORD", **dict.fromkeys(_REBUILD, "REBUILD"),
               "migrating": "MIGRATING", **dict.fromkeys(_RESIZE, "RESIZE")},
    "building": {None: "BUILD"},
    "stopped": {None: "SHUTOFF", **dict.fromkeys(_RESIZE, "RESIZE"),
                **dict.fromkeys(_REBUILD, "REBUILD")},
    "resized": {None: "VERIFY_RESIZE", "resize_reverting": "REVERT_RESIZE"},
    "paused": {None: "PAUSED", "migrating": "MIGRATING"},
    "suspended": {None: "SUSPENDED"},
    "rescued": {None: "RESCUE"},
    "error": {None: "ERROR", **dict.fromkeys(_REBUILD, "REBUILD")},
    "deleted": {None: "DELETED"},
    "soft-delete": {None: "SOFT_DELETED"},
    "shelved": {None: "SHELVED"},
    "shelved_offloaded": {None: "SHELVED_OFFLOADED"},
}


def status(vm_state: str, task_state: str | None) -> str:
    """Nova's API ``status`` for a vm_state and task_state."""
    by_task = _STATUS.get(vm_state)
    if by_task is None:
        return "UNKNOWN"
    return by_task.get(task_state, by_task[None])


def _strings(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must be an object with string keys")
    return {k: str(v) for k, v in value.items()}


def apply_fields(server: Server, fields: dict[str, Any]) -> None:
    """Set ``server``'s fields as Nova would hold them; ValueError (nothing changed) for a
    value Nova cannot hold.

    Keys: ``vm_state``, ``task_state`` (None clears), ``power_state`` (default: the one the
    new vm_state implies), ``metadata`` (merged) or ``metadata_replace`` (replaces),
    ``locked`` / ``locked_reason`` / ``locked_by`` ("owner" or "admin"), ``tags`` (list)."""
    known = {"vm_state", "task_state", "power_state", "metadata", "metadata_replace",
             "locked", "locked_reason", "locked_by", "tags"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"unknown server fields {unknown}")
    if "metadata" in fields and "metadata_replace" in fields:
        raise ValueError("give metadata (merge) or metadata_replace, not both")
    vm_state = str(fields.get("vm_state", server.vm_state))
    if vm_state not in VM_STATES:
        raise ValueError(f"vm_state {vm_state!r} is not one of Nova's {list(VM_STATES)}")
    task_state = fields.get("task_state", server.task_state)
    if task_state is not None and task_state not in TASK_STATES:
        raise ValueError(f"task_state {task_state!r} is not one of Nova's task states")
    if "power_state" in fields:
        power = int(fields["power_state"])
        if power not in POWER_STATES:
            raise ValueError(f"power_state {power} is not one of {list(POWER_STATES)}")
    elif "vm_state" in fields:
        power = DEFAULT_POWER[vm_state]
    else:
        power = server.power_state
    locked = bool(fields.get("locked", server.locked))
    locked_by = fields.get("locked_by", server.locked_by if locked else None)
    if locked and locked_by is None:
        locked_by = "admin"
    if locked_by not in (("owner", "admin") if locked else (None,)):
        raise ValueError("locked_by is 'owner' or 'admin' (and only for a locked server)")
    reason = fields.get("locked_reason", server.locked_reason if locked else None)
    if reason is not None and not locked:
        raise ValueError("locked_reason needs locked")
    tags = fields.get("tags", server.tags)
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 60
                                             and "/" not in t and "," not in t for t in tags):
        raise ValueError("tags are a list of strings of 1-60 characters without '/' or ','")
    if len(set(tags)) > 50:
        raise ValueError("at most 50 tags per server (Nova's MAX_TAGS_PER_INSTANCE)")
    metadata = dict(server.metadata)
    if "metadata_replace" in fields:
        metadata = _strings(fields["metadata_replace"], "metadata_replace")
    elif "metadata" in fields:
        metadata.update(_strings(fields["metadata"], "metadata"))
    server.vm_state, server.task_state, server.power_state = vm_state, task_state, power
    server.locked, server.locked_reason, server.locked_by = locked, reason, locked_by
    server.tags = sorted(set(tags))
    server.metadata = metadata
    server.touch()
