"""Validation of our own notifications (host_recovery.incident.* / host_recovery.instance.*).

The action pack publishes them (workflows/actions/host_recovery_actions/events.py); dashboards
and other consumers validate against ``schemas/recovery_events.v1.json``::

    from notifications import recovery_events
    recovery_events.validate("host_recovery.instance.evacuated", payload)   # or raises
    errors = recovery_events.errors({"event_type": ..., "payload": ...})    # [] if valid
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import jsonschema

__all__ = ["EVENT_TYPES", "InvalidRecoveryEvent", "errors", "schema", "validate"]

EVENT_TYPES = (
    "host_recovery.incident.held", "host_recovery.incident.start",
    "host_recovery.incident.end", "host_recovery.incident.error",
    "host_recovery.incident.given_back",
    "host_recovery.instance.evacuated", "host_recovery.instance.failed",
    "host_recovery.instance.skipped",
)


class InvalidRecoveryEvent(ValueError):
    """A notification that does not match the schema; the message names the field."""


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12), loaded once."""
    text = resources.files("notifications.schemas").joinpath(
        "recovery_events.v1.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    validator: jsonschema.protocols.Validator = cls(schema())
    return validator


def errors(notification: dict[str, Any]) -> list[str]:
    """Every schema violation of a whole notification, as "<json path>: <message>"."""
    found = sorted(_validator().iter_errors(notification), key=lambda e: list(e.path))
    return [f"{e.json_path}: {e.message}" for e in found]


def validate(event_type: str, payload: dict[str, Any]) -> None:
    """Raise InvalidRecoveryEvent unless ``payload`` is a valid ``event_type`` payload."""
    problems = errors({"event_type": event_type, "payload": payload})
    if problems:
        raise InvalidRecoveryEvent("; ".join(problems))
