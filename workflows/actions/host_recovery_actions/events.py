"""Our own recovery notifications: payload builders (the one place that shapes them).

Event types (topic ``host_recovery_events``, driver messagingv2)::

    host_recovery.incident.held | start | end | error | given_back
    host_recovery.instance.evacuated | failed | skipped

Samples of every payload are in ``samples/<event_type>.json`` (kept equal to these builders
by tests/unit/workflow/test_events.py).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PAYLOAD_VERSION", "incident", "instance"]

PAYLOAD_VERSION = "1.0"

INCIDENT_EVENTS = ("held", "start", "end", "error", "given_back")
INSTANCE_EVENTS = ("evacuated", "failed", "skipped")


def incident(event: str, incident_id: str, host: str, attempt: int, execution_id: str | None,
             **details: Any) -> tuple[str, dict[str, Any]]:
    """(event_type, payload) of ``host_recovery.incident.<event>``.

    ``details`` by event: held → reason, rank; start → planned, skipped, microversion,
    on_shared_storage; end → outcome, reason, summary, evidence, policy_violations; error →
    outcome, reason; given_back (our force-down cleared after the incident) → reason.
    """
    if event not in INCIDENT_EVENTS:
        raise ValueError(f"unknown incident event {event!r}")
    payload = {"version": PAYLOAD_VERSION, "incident_id": incident_id, "host": host,
               "attempt": attempt, "execution_id": execution_id}
    payload.update(details)
    return f"host_recovery.incident.{event}", payload


def instance(record: dict[str, Any], incident_id: str, attempt: int,
             execution_id: str | None) -> tuple[str, dict[str, Any]]:
    """(event_type, payload) of ``host_recovery.instance.<result>`` from a per-VM record."""
    result = str(record.get("result"))
    event = {"evacuated": "evacuated", "skipped": "skipped"}.get(result, "failed")
    payload = {"version": PAYLOAD_VERSION, "incident_id": incident_id, "attempt": attempt,
               "execution_id": execution_id}
    payload.update({key: record.get(key) for key in RECORD_KEYS})
    return f"host_recovery.instance.{event}", payload


RECORD_KEYS = ("id", "name", "project_id", "original_state", "final_state", "result",
               "source_host", "dest_host", "attempts", "reason", "seconds")


def record(server: dict[str, Any], source_host: str, result: str, reason: str | None,
           **extra: Any) -> dict[str, Any]:
    """The per-VM line of the workflow output (and of instance notifications)."""
    line: dict[str, Any] = {
        "id": server.get("id"), "name": server.get("name"),
        "project_id": server.get("project_id") or server.get("tenant_id"),
        "original_state": server.get("original_state")
        or server.get("OS-EXT-STS:vm_state"),
        "final_state": None, "result": result, "source_host": source_host,
        "dest_host": None, "attempts": 0, "reason": reason, "seconds": None}
    line.update(extra)
    return line
