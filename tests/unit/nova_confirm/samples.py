"""Nova's samples adapted to one instance (resolution lives in tests/nova_samples.py)."""

from __future__ import annotations

import copy
from typing import Any

from tests.nova_samples import SAMPLES, sample

__all__ = ["SAMPLES", "sample", "with_instance"]


def with_instance(msg: dict[str, Any], uuid: str, **data: Any) -> dict[str, Any]:
    """A copy of a sample about instance ``uuid`` with payload data overridden."""
    out = copy.deepcopy(msg)
    payload = out["payload"]["nova_object.data"]
    payload["instance_uuid" if "instance_uuid" in payload else "uuid"] = uuid
    payload.update(data)
    return out
