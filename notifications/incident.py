"""Incident ids (design.md §2): one id per host failure, the same from every reporter."""

from __future__ import annotations

import uuid

#: Fixed namespace of host-recovery incident ids; never change it (ids would change).
HOST_RECOVERY_NS = uuid.UUID("787fa5f0-c67d-4d97-a207-dc903d5b9823")


def incident_id_for(host: str, event_key: str) -> str:
    """``uuid5(HOST_RECOVERY_NS, "<host>|<event key>")`` in canonical text form (36 chars).

    The event key is what every reporter of the same failure shares, e.g.
    ``fenced@<completion epoch>`` from the fencing history or ``attr@<epoch first seen>``.
    """
    return str(uuid.uuid5(HOST_RECOVERY_NS, f"{host}|{event_key}"))
