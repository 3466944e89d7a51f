"""The fence step's checks of a fencing-evidence record (shape: fencing_evidence.py).

The record and its validation are the shared contract (``fencing_evidence.py``, a
byte-identical copy of ``notifications/fencing_evidence.py``); this module says whether a valid
record proves *this* host dead since *this* failure::

    record = evidence.parse(raw)                   # None when absent; ValueError when malformed
    problem = evidence.staleness(record, host, incident_id, failure_time, skew)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .fencing_evidence import KINDS, FencingEvidence, validate_evidence

__all__ = ["KINDS", "Evidence", "freshest", "operator", "parse", "parse_time", "staleness"]

Evidence = FencingEvidence


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
    never evidence): the same checks the listener applied to the host-down.
    """
    if raw is None or raw == {}:
        return None
    return validate_evidence(raw)


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
