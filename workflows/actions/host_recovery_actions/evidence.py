"""The fencing-evidence record (the pack's own parser of the shared contract) and its checks.

Shape (docs/design.md "Safety"; the same record as ``notifications.host_down``, which the
pack cannot import)::

    {"kind": "pacemaker_fencing" | "operator" | "nova_force_down", "target": "<host>",
     "action": "off" | "reboot" | None, "completed_at": "<ISO 8601 UTC>",
     "executioner": ..., "origin": ..., "by": ..., "incident_id": ...}

Usage::

    record = evidence.parse(raw)                   # None when absent; ValueError when malformed
    problem = evidence.staleness(record, host, incident_id, failure_time, skew)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

__all__ = ["KINDS", "Evidence", "freshest", "operator", "parse", "parse_time", "staleness"]

KINDS = ("pacemaker_fencing", "operator", "nova_force_down")
FENCING_ACTIONS = ("off", "reboot")


class Evidence(TypedDict):
    """What proved the host dead, and when."""

    kind: str
    target: str
    action: str | None
    completed_at: str
    executioner: str | None
    origin: str | None
    by: str | None
    incident_id: str | None


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time as an aware UTC datetime (a naive one is taken as UTC)."""
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse(raw: Any) -> Evidence | None:
    """The record from workflow input or an approval; None when absent.

    Raises ValueError naming the field when the record is malformed (a malformed record is
    never evidence).
    """
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise ValueError(f"fencing_evidence must be an object, not {type(raw).__name__}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"fencing_evidence.kind {kind!r} is not one of {', '.join(KINDS)}")
    target = raw.get("target")
    if not isinstance(target, str) or not target:
        raise ValueError("fencing_evidence.target must be a host name")
    try:
        parse_time(raw.get("completed_at"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fencing_evidence.completed_at {raw.get('completed_at')!r} is not "
                         "an ISO 8601 time") from exc
    if kind == "pacemaker_fencing" and raw.get("action") not in FENCING_ACTIONS:
        raise ValueError(f"fencing_evidence.action {raw.get('action')!r}: only off and "
                         "reboot prove a host dead")
    def text(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else str(value)

    return Evidence(kind=kind, target=target, completed_at=str(raw["completed_at"]),
                    action=text("action"), executioner=text("executioner"),
                    origin=text("origin"), by=text("by"), incident_id=text("incident_id"))


def operator(host: str, by: str, completed_at: str) -> Evidence:
    """An operator's ``approve --fenced``: who asserted the host is dead, and when."""
    return Evidence(kind="operator", target=host, action=None, completed_at=completed_at,
                    executioner=None, origin=None, by=by, incident_id=None)


def _same_host(target: str, host: str) -> bool:
    # Pacemaker names nodes by short name, Nova often by FQDN (or the other way round)
    return target == host or target.partition(".")[0] == host.partition(".")[0]


def staleness(record: Evidence, host: str, incident_id: str, failure_time: Any,
              skew: float) -> str | None:
    """Why ``record`` does not prove ``host`` dead since the failure; None when it does."""
    if not _same_host(record["target"], host):
        return f"evidence is about {record['target']}, not {host}"
    if record["kind"] == "nova_force_down" and record["incident_id"] != incident_id:
        return (f"forced down by incident {record['incident_id']}, not by this one "
                f"({incident_id})")
    if failure_time in (None, ""):
        return None  # nothing to compare with: the reporter did not say when it failed
    try:
        began = parse_time(failure_time)
    except ValueError:
        return f"failure_time {failure_time!r} is not an ISO 8601 time"
    completed = parse_time(record["completed_at"])
    if completed < began - timedelta(seconds=skew):
        return (f"{record['kind']} evidence completed at {record['completed_at']}, before "
                f"the failure began ({failure_time})")
    return None


def freshest(records: list[Evidence]) -> Evidence | None:
    """The record completed last (an approval's evidence over the reporter's)."""
    if not records:
        return None
    return max(records, key=lambda r: parse_time(r["completed_at"]))
