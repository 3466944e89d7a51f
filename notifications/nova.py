"""Parsers for the Nova notifications that end (or fail) an evacuation.

Nova has no ``instance.evacuate.end``: an evacuation ends with ``instance.rebuild.end`` from
``nova-compute:<destination>`` and fails with ``instance.rebuild.error`` (payload ``fault``)
or ``compute_task.rebuild_server.error`` (payload ``reason``)::

    from notifications import nova
    if nova.is_relevant(event_type):             # cheap: a frozenset lookup
        event = nova.parse(event_type, publisher_id, payload)
        event.instance_id, event.kind, event.dest_host, event.fault

Shapes follow Nova's own samples (../shared/reference/nova-notification-samples/). The legacy
(unversioned) ``compute.instance.*`` format is parsed too when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "LEGACY_EVENTS",
    "VERSIONED_EVENTS",
    "InstanceEvent",
    "MalformedNovaEvent",
    "is_relevant",
    "parse",
    "publisher_host",
]

Kind = Literal["end", "error"]

# event type -> what it means for a waiting evacuation
VERSIONED_EVENTS: dict[str, Kind] = {
    "instance.rebuild.end": "end",
    "instance.rebuild.error": "error",
    "compute_task.rebuild_server.error": "error",
}
LEGACY_EVENTS: dict[str, Kind] = {
    "compute.instance.rebuild.end": "end",
    "compute.instance.rebuild.error": "error",
    "compute_task.rebuild_server": "error",
}


class MalformedNovaEvent(ValueError):
    """A relevant event type whose payload lacks what we need (e.g. no instance uuid)."""


@dataclass(frozen=True)
class InstanceEvent:
    """One relevant Nova event about one instance."""

    event_type: str
    kind: Kind
    instance_id: str
    state: str | None
    task_state: str | None
    host: str | None
    publisher_host: str | None
    fault: str | None

    @property
    def dest_host(self) -> str | None:
        """Where the instance now runs: the compute service that sent the event.

        rebuild.end is emitted before the resource tracker moves instance.host, so the
        payload's host may still be the failed source; the publisher is the destination.
        A conductor event has no compute publisher: fall back to the payload.
        """
        if self.publisher_host and not self.event_type.startswith("compute_task."):
            return self.publisher_host
        return self.host


def is_relevant(event_type: str, legacy: bool = False) -> bool:
    """True for the few event types a waiting evacuation cares about (no payload access)."""
    if not isinstance(event_type, str):  # a hostile body's list or dict: not Nova's
        return False
    return event_type in VERSIONED_EVENTS or (legacy and event_type in LEGACY_EVENTS)


def publisher_host(publisher_id: str | None) -> str | None:
    """``nova-compute:<host>`` (versioned) or ``compute.<host>`` (legacy) -> ``<host>``."""
    if not publisher_id:
        return None
    for sep in (":", "."):
        service, found, host = publisher_id.partition(sep)
        if found and host and service:
            return host
    return None


def parse(event_type: str, publisher_id: str | None, payload: Any) -> InstanceEvent:
    """Typed view of a relevant event; MalformedNovaEvent if it cannot be used."""
    if event_type in VERSIONED_EVENTS:
        return _parse_versioned(event_type, VERSIONED_EVENTS[event_type], publisher_id, payload)
    if event_type in LEGACY_EVENTS:
        return _parse_legacy(event_type, LEGACY_EVENTS[event_type], publisher_id, payload)
    raise MalformedNovaEvent(f"event type {event_type!r} is not an evacuation event")


def _data(obj: Any, what: str) -> dict[str, Any]:
    """``nova_object.data`` of a versioned object (a dict), or MalformedNovaEvent."""
    if not isinstance(obj, dict) or not isinstance(obj.get("nova_object.data"), dict):
        raise MalformedNovaEvent(f"{what}: no nova_object.data")
    data: dict[str, Any] = obj["nova_object.data"]
    return data


def _exception_message(exc_obj: Any) -> str | None:
    """Nova's ExceptionPayload -> "<Exception>: <message>" (None if absent)."""
    if not isinstance(exc_obj, dict):
        return None
    data = exc_obj.get("nova_object.data")
    if not isinstance(data, dict):
        return None
    message = data.get("exception_message")
    name = data.get("exception")
    if name and message:
        return f"{name}: {message}"
    return str(message or name) if (message or name) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _parse_versioned(event_type: str, kind: Kind, publisher_id: str | None,
                     payload: Any) -> InstanceEvent:
    data = _data(payload, f"{event_type} payload")
    if event_type.startswith("compute_task."):
        # ComputeTaskPayload: instance_uuid + reason (ExceptionPayload), state "error"
        uuid = _str(data.get("instance_uuid"))
        fault = _exception_message(data.get("reason"))
        host = None
    else:
        uuid = _str(data.get("uuid"))
        fault = _exception_message(data.get("fault"))
        host = _str(data.get("host"))
    if uuid is None:
        raise MalformedNovaEvent(f"{event_type}: payload has no instance uuid")
    if kind == "error" and fault is None:
        fault = f"{event_type} without a fault"
    return InstanceEvent(event_type=event_type, kind=kind, instance_id=uuid,
                         state=_str(data.get("state")), task_state=_str(data.get("task_state")),
                         host=host, publisher_host=publisher_host(publisher_id), fault=fault)


def _parse_legacy(event_type: str, kind: Kind, publisher_id: str | None,
                  payload: Any) -> InstanceEvent:
    if not isinstance(payload, dict):
        raise MalformedNovaEvent(f"{event_type}: payload is not an object")
    # compute.instance.*: flat payload (instance_id, state, host); conductor: request_spec
    uuid = _str(payload.get("instance_id")) or _str(payload.get("instance_uuid"))
    if uuid is None:
        spec = payload.get("request_spec")
        props = spec.get("instance_properties") if isinstance(spec, dict) else None
        uuid = _str(props.get("uuid")) if isinstance(props, dict) else None
    if uuid is None:
        raise MalformedNovaEvent(f"{event_type}: payload has no instance id")
    fault = _str(payload.get("message")) or _str(payload.get("reason")) or _str(
        payload.get("exception"))
    if kind == "error" and fault is None:
        fault = f"{event_type} without a fault"
    host = None if event_type.startswith("compute_task.") else _str(payload.get("host"))
    return InstanceEvent(event_type=event_type, kind=kind, instance_id=uuid,
                         state=_str(payload.get("state")),
                         task_state=_str(payload.get("new_task_state")), host=host,
                         publisher_host=publisher_host(publisher_id),
                         fault=fault if kind == "error" else None)
