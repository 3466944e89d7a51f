"""Instance-level recovery policy as pure functions: whether and how each VM is recovered
(per-VM state handling) and its priority, from server metadata, flavor extra specs and image
properties. Nothing here talks to Nova; callers pass what Nova returned (docs/policy.md,
tests/unit/workflow/test_policy.py). ``policy`` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LOCK_PREFIX", "InstanceDecision", "InstanceRules", "decide_instance", "order",
           "truthy"]

LOCK_PREFIX = "host-recovery"  # our lock reasons start with it: "host-recovery <incident>"
EVACUABLE = {"active", "stopped"}
NEVER = {"building", "deleted", "soft-delete", "shelved_offloaded"}


def truthy(value: Any) -> bool | None:
    """Parse a metadata boolean; None when it is not one."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "y", "t", "enabled"):
        return True
    if text in ("0", "false", "no", "off", "n", "f", "disabled"):
        return False
    return None


@dataclass
class InstanceRules:
    """The [policy] options that decide per VM."""

    mode: str = "opt-out"
    enabled_keys: list[str] = field(default_factory=lambda: ["host_recovery:enabled",
                                                              "HA_Enabled"])
    priority_keys: list[str] = field(default_factory=lambda: [
        "host_recovery:priority", "evacuation_priority", "instanceha:restart_priority"])
    evacuable_tags: list[str] = field(default_factory=lambda: ["evacuable"])
    error_vms: str = "skip"
    other_states: str = "skip"
    task_state: str = "skip"
    user_locked: str = "evacuate"
    default_priority: int = 0


@dataclass
class InstanceDecision:
    """``action``: evacuate | reset (reset to active, then evacuate) | skip."""

    action: str
    reason: str
    priority: int
    expected_state: str | None = None
    user_locked: bool = False


def _enabled(server: dict[str, Any], extra_specs: dict[str, Any],
             image_props: dict[str, Any], rules: InstanceRules) -> tuple[bool | None, str]:
    sources = [("metadata", server.get("metadata") or {}), ("flavor", extra_specs),
               ("image", image_props)]
    tags = set(server.get("tags") or [])
    for where, values in sources:
        for key in rules.enabled_keys:
            if key in values and truthy(values[key]) is not None:
                return truthy(values[key]), f"{where} {key}={values[key]}"
        for tag in rules.evacuable_tags:
            if where == "metadata" and tag in tags:
                return True, f"tag {tag}"
            if tag in values and truthy(values[tag]) is not False:
                return True, f"{where} {tag}"
    return None, rules.mode


def _priority(server: dict[str, Any], extra_specs: dict[str, Any],
              image_props: dict[str, Any], rules: InstanceRules) -> int:
    for values in (server.get("metadata") or {}, extra_specs, image_props):
        for key in rules.priority_keys:
            # a membership test first: the capacity analysis runs this for every server of
            # the cloud, and a raised KeyError per absent key was most of its planning time
            if key in values:
                try:
                    return int(values[key])
                except (TypeError, ValueError):
                    continue
    return rules.default_priority


def decide_instance(server: dict[str, Any], extra_specs: dict[str, Any],
                    image_props: dict[str, Any], rules: InstanceRules) -> InstanceDecision:
    """Whether and how one VM is recovered, with the reason (pure)."""
    priority = _priority(server, extra_specs, image_props, rules)
    enabled, why = _enabled(server, extra_specs, image_props, rules)
    vm_state = str(server.get("OS-EXT-STS:vm_state") or "")
    task_state = server.get("OS-EXT-STS:task_state")
    reason = str(server.get("locked_reason") or "")
    user_locked = bool(server.get("locked")) and not reason.startswith(LOCK_PREFIX)

    def skip(text: str) -> InstanceDecision:
        return InstanceDecision("skip", text, priority, None, user_locked)

    if enabled is False:
        return skip(f"recovery disabled by {why}")
    if enabled is None and rules.mode == "opt-in":
        return skip("not enabled (policy mode opt-in)")
    if user_locked and rules.user_locked == "skip":
        return skip("locked by its user (policy user_locked=skip)")
    if vm_state in NEVER:
        return skip(f"vm_state {vm_state} cannot be evacuated")
    if task_state == "rebuilding":  # our earlier attempt is still running: wait for it
        return InstanceDecision("evacuate", "evacuation in progress", priority,
                                vm_state if vm_state in EVACUABLE else "active", user_locked)
    if task_state:
        if rules.task_state == "reset":
            return InstanceDecision("reset", f"task_state {task_state} reset (policy)",
                                    priority, "active", user_locked)
        return skip(f"task_state {task_state} (policy task_state=skip)")
    if vm_state in EVACUABLE:
        return InstanceDecision("evacuate", f"{vm_state}, enabled by {why}", priority,
                                vm_state, user_locked)
    if vm_state == "error":
        if rules.error_vms == "reset":
            return InstanceDecision("reset", "ERROR reset to active (policy)", priority,
                                    "active", user_locked)
        return skip("vm_state error (policy error_vms=skip)")
    if rules.other_states == "reset":
        return InstanceDecision("reset", f"{vm_state} reset to active (policy)", priority,
                                "active", user_locked)
    return skip(f"vm_state {vm_state} (policy other_states=skip)")


def order(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Higher priority first, then by name and id (stable and the same on every run)."""
    return sorted(plans, key=lambda p: (-int(p["priority"]), str(p["name"]), str(p["id"])))
