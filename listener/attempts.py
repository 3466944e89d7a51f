"""Execution ids of an incident's attempts (design.md §2 re-run scheme)."""

from __future__ import annotations

import uuid

__all__ = ["execution_id", "parse_attempt"]


def execution_id(incident_id: str, attempt: int) -> str:
    """Attempt 1 runs under the incident id; attempt N under uuid5(incident, "attempt-N")."""
    if attempt < 1:
        raise ValueError("attempts start at 1")
    if attempt == 1:
        return incident_id
    return str(uuid.uuid5(uuid.UUID(incident_id), f"attempt-{attempt}"))


def parse_attempt(workflow_input: object) -> int:
    """The attempt number recorded in an execution's input (1 when absent)."""
    if isinstance(workflow_input, dict):
        try:
            return max(1, int(workflow_input.get("attempt") or 1))
        except (TypeError, ValueError):
            return 1
    return 1
