"""The workflow contract between the listener and the action pack (stdlib only).

Names of the workflows, tasks and actions in workflows/host_recovery.yaml, the input and
output of the wait action, the rule that says a VM is evacuated, and the exception family
both Mistral facades raise. The action pack runs in Mistral's virtualenv without our
packages: ``workflows/actions/host_recovery_actions/contract.py`` is a byte-identical copy,
pinned by tests/unit/test_packaging.py. Edit this file, then copy it there::

    from notifications import contract
    wait = contract.wait_input(action_execution["input"])   # None if not one of our waits
    if wait and contract.is_evacuated(host, wait["source_host"], vm_state): ...
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

__all__ = ["AWAIT_APPROVAL", "ENDED_OK", "POLL_EVACUATION", "RECOVER_HOST", "RECOVER_INSTANCE",
           "TASK_PLAN", "VERSION", "WAIT_EVACUATION", "ActionAlreadyCompleted", "MistralError",
           "MistralNotFound", "MistralRejected", "MistralUnavailable", "WaitInput",
           "WaitOutput", "accepted_epoch", "decoded", "error_for", "instance_id_of",
           "is_evacuated", "wait_input"]

# -- workflows --------------------------------------------------------------------------------
RECOVER_HOST = "host_recovery.recover_host"
RECOVER_INSTANCE = "host_recovery.recover_instance"

# -- actions (workflows/actions/setup.cfg registers them under these names) --------------------
VERSION = "host_recovery.version"
GATE = "host_recovery.gate"
AWAIT_APPROVAL = "host_recovery.await_approval"
FENCE = "host_recovery.fence"
PLAN = "host_recovery.plan"
PREPARE_INSTANCE = "host_recovery.prepare_instance"
EVACUATE = "host_recovery.evacuate"
WAIT_EVACUATION = "host_recovery.wait_evacuation"
POLL_EVACUATION = "host_recovery.poll_evacuation"
RESTORE_STATE = "host_recovery.restore_state"
FINISH_INSTANCE = "host_recovery.finish_instance"
REPORT = "host_recovery.report"
REPLAN = "host_recovery.replan"
GIVE_BACK = "host_recovery.give_back"

# -- tasks others look at ---------------------------------------------------------------------
TASK_PLAN = "plan"  # recover_host: publishes ``plan`` (the VMs chosen)
TASK_RECOVER = "recover"  # recover_host: the with-items over recover_instance
TASK_AWAIT_APPROVAL = "await_approval"  # recover_host: held by the guard
TASK_WAIT = "evacuate"  # recover_instance: runs WAIT_EVACUATION (it evacuates, then waits)
TASK_POLL = "poll"  # recover_instance: runs POLL_EVACUATION

# vm_states an evacuated VM may end in (Nova >= 2.95 leaves a stopped VM STOPPED)
ENDED_OK = ("active", "stopped")


class WaitInput(TypedDict):
    """Input of WAIT_EVACUATION (and POLL_EVACUATION) as the listener reads it (the workflow's
    ``evacuate`` task also sends the VM to evacuate). ``accepted_at`` is absent when the wait
    itself evacuates: its creation time stands for it (listener.nova.waits.Wait)."""

    instance_id: str
    incident_id: str
    source_host: str | None
    original_vm_state: str | None
    expected_vm_state: str | None
    accepted_at: str | float | None  # when Nova accepted it: ISO 8601 UTC (epoch tolerated)
    attempt: int


class WaitOutput(TypedDict):
    """What completes a wait (PUT /v2/action_executions/<id>, state SUCCESS)."""

    result: Literal["evacuated", "error", "timeout"]  # what the listener or the poll writes
    host: str | None
    vm_state: str | None
    fault: str | None
    via: str  # notification | check | poll | workflow


def decoded(raw: Any) -> dict[str, Any]:
    """A JSON field as a dict: Mistral serves them as text on some endpoints and decoded on
    others ({} when it is neither)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "{}")
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def wait_input(raw: Any) -> WaitInput | None:
    """The typed input of a wait action execution; None when it is not one we can correlate."""
    data = decoded(raw)
    instance_id, incident_id = _text(data.get("instance_id")), _text(data.get("incident_id"))
    if instance_id is None or incident_id is None:
        return None
    accepted = data.get("accepted_at")
    try:
        attempt = int(data.get("attempt") or 1)
    except (TypeError, ValueError):
        attempt = 1
    return WaitInput(instance_id=instance_id, incident_id=incident_id,
                     source_host=_text(data.get("source_host")),
                     original_vm_state=_text(data.get("original_vm_state")),
                     expected_vm_state=_text(data.get("expected_vm_state")),
                     accepted_at=(float(accepted) if isinstance(accepted, int | float)
                                  else _text(accepted)),
                     attempt=attempt)


def accepted_epoch(value: Any) -> float | None:
    """``accepted_at`` (ISO 8601, naive = UTC; a number is taken as epoch) as epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def instance_id_of(recover_instance_input: Any) -> str | None:
    """The VM a RECOVER_INSTANCE execution recovers (its input's ``instance.id``)."""
    instance = decoded(recover_instance_input).get("instance")
    return _text(instance.get("id")) if isinstance(instance, dict) else None


def is_evacuated(host: str | None, source_host: str | None, vm_state: str | None) -> bool:
    """The one rule: on another host than the failed one, ACTIVE or STOPPED.

    Restoring the original state (starting a VM Nova left STOPPED) is the workflow's
    ``restore`` task, after the wait: a wait that held out for ACTIVE would never end.
    Callers also require Nova to have no task_state when they can see it.
    """
    return (host is not None and host != source_host
            and (vm_state or "").lower() in ENDED_OK)


# -- the Mistral exception family (both facades raise these) ----------------------------------
class MistralError(RuntimeError):
    """Mistral could not do what was asked."""


class MistralUnavailable(MistralError):
    """Transient: Mistral (or Keystone) unreachable, timing out or answering 5xx."""


class MistralNotFound(MistralError):
    """404: the execution, workflow or action execution does not exist."""


class MistralRejected(MistralError):
    """4xx other than 404: the request itself is wrong (bad input, unknown action...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class ActionAlreadyCompleted(MistralError):
    """The async action execution was already completed (one of several PUTs won)."""


def error_for(status: int, message: str) -> MistralError:
    """The family member for an HTTP error status (Mistral 23's answers)."""
    if "already completed" in message:  # Mistral answers a second completion with a 500
        return ActionAlreadyCompleted(f"HTTP {status}: {message}")
    if status == 404:
        return MistralNotFound(message)
    if status >= 500 or status in (408, 429) or status == 0:
        return MistralUnavailable(f"HTTP {status}: {message}")
    return MistralRejected(status, message)
