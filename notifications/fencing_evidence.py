"""The fencing-evidence record: what proved a host dead, and when (shared contract, stdlib only).

Carried by a host-down (optional ``fencing_evidence``) and by the workflow input of
``host_recovery.recover_host``; checked by the action pack's fence step. The pack runs in
Mistral's virtualenv without our packages: ``workflows/actions/host_recovery_actions/
fencing_evidence.py`` is a byte-identical copy, pinned by tests/unit/test_packaging.py (edit
this file, then copy it there)::

    {"kind": "pacemaker_fencing" | "operator" | "nova_force_down", "target": "<host>",
     "action": "off" | "reboot" | None, "completed_at": "<ISO 8601 UTC, Z>",
     "executioner": ..., "origin": ..., "by": ..., "incident_id": ...}

    record = validate_evidence(raw)   # every key present; ValueError naming the wrong field
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

KINDS = ("pacemaker_fencing", "operator", "nova_force_down")
FENCING_ACTIONS = ("off", "reboot")
_OPTIONAL = ("action", "executioner", "origin", "by", "incident_id")


class FencingEvidence(TypedDict):
    """One proof that a host is dead (every key present, unused ones None)."""

    kind: str
    target: str
    action: str | None
    completed_at: str
    executioner: str | None
    origin: str | None
    by: str | None
    incident_id: str | None


def format_time(when: dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    text = when.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def make_evidence(kind: str, target: str, completed_at: dt.datetime, *,
                  action: str | None = None, executioner: str | None = None,
                  origin: str | None = None, by: str | None = None,
                  incident_id: str | None = None) -> FencingEvidence:
    """A validated record; raises ValueError naming the field."""
    return validate_evidence({
        "kind": kind, "target": target, "action": action,
        "completed_at": format_time(completed_at), "executioner": executioner,
        "origin": origin, "by": by, "incident_id": incident_id})


def evidence_time(evidence: FencingEvidence) -> dt.datetime:
    """``completed_at`` as an aware UTC datetime."""
    return dt.datetime.fromisoformat(evidence["completed_at"]).astimezone(dt.UTC)


def validate_evidence(raw: Any) -> FencingEvidence:
    """The record with every key, or ValueError naming the field that is wrong.

    Beyond the schema: a Pacemaker fencing needs its action (off or reboot, never the
    unfencing ``on``), an operator's record who approved, our force-down its incident.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"fencing_evidence: expected an object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"kind", "target", "completed_at", *_OPTIONAL})
    if unknown:
        raise ValueError(f"fencing_evidence.{unknown[0]}: unexpected field")
    kind, target = raw.get("kind"), raw.get("target")
    if kind not in KINDS:
        raise ValueError(f"fencing_evidence.kind: {kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(target, str) or not target:
        raise ValueError("fencing_evidence.target: required (the host)")
    for key in _OPTIONAL:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"fencing_evidence.{key}: expected a string or null")
    completed = raw.get("completed_at")
    try:
        when = dt.datetime.fromisoformat(str(completed))
    except ValueError as exc:
        raise ValueError(f"fencing_evidence.completed_at: {exc}") from exc
    if when.tzinfo is None:
        raise ValueError("fencing_evidence.completed_at: needs a UTC offset")
    needs = {"pacemaker_fencing": "action", "operator": "by",
             "nova_force_down": "incident_id"}[kind]
    if not raw.get(needs):
        raise ValueError(f"fencing_evidence.{needs}: required for kind {kind}")
    if raw.get("action") is not None and raw["action"] not in FENCING_ACTIONS:
        raise ValueError(f"fencing_evidence.action: {raw['action']!r} is not off or reboot "
                         "(an unfencing proves nothing)")
    return FencingEvidence(
        kind=kind, target=target, action=raw.get("action"),
        completed_at=format_time(when), executioner=raw.get("executioner"),
        origin=raw.get("origin"), by=raw.get("by"), incident_id=raw.get("incident_id"))
