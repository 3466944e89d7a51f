"""Nova's own notification samples with their ``$ref``s resolved (as the README says)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

# vendored copy of Nova's doc/notification_samples (tests/data/README.md)
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "nova-notification-samples"


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base.get(key), value) if key in base else value
        return out
    return copy.deepcopy(over)


def _resolve(obj: Any, folder: Path) -> Any:
    if isinstance(obj, list):
        return [_resolve(item, folder) for item in obj]
    if not isinstance(obj, dict):
        return obj
    if "$ref" in obj:
        ref = obj["$ref"].split("#")[0]
        path = (folder / ref) if (folder / ref).exists() else SAMPLES / "common_payloads" / ref
        base = _resolve(json.loads(path.read_text()), path.parent)
        rest = {k: v for k, v in obj.items() if k != "$ref"}
        return _merge(base, _resolve(rest, folder))
    return {key: _resolve(value, folder) for key, value in obj.items()}


def sample(name: str) -> dict[str, Any]:
    """A resolved sample by file stem, e.g. ``instance-rebuild-end``."""
    path = SAMPLES / f"{name}.json"
    resolved: dict[str, Any] = _resolve(json.loads(path.read_text()), SAMPLES)
    return resolved


def with_instance(msg: dict[str, Any], uuid: str, **data: Any) -> dict[str, Any]:
    """A copy of a sample about instance ``uuid`` with payload data overridden."""
    out = copy.deepcopy(msg)
    payload = out["payload"]["nova_object.data"]
    payload["instance_uuid" if "instance_uuid" in payload else "uuid"] = uuid
    payload.update(data)
    return out
