"""Nova's notification samples: load with $ref resolved, and compare emitted payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# A copy of ../shared/reference/nova-notification-samples, so a clone tests on its own.
SHARED = Path(__file__).resolve().parents[2] / "data" / "nova-notification-samples"
LOCAL = Path(__file__).resolve().parent / "samples"
# Nova sets only the image properties an image has: their keys vary by design.
VARIABLE_KEYS = {"ImageMetaPropsPayload"}
# Nullable object fields: Nova sends null when the instance has none (the sample has one).
NULLABLE = {"numa_topology", "fault", "instance_group", "reason"}
# instance.update comes from whichever service saved the instance (conductor on NoValidHost).
PUBLISHERS = {"instance.update": {"nova-compute", "nova-conductor", "nova-api"}}


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base.get(key), value)
        return merged
    return over


def resolve(node: Any, here: Path) -> Any:
    """Replace every ``{"$ref": file, ...overrides}`` by the file merged with overrides."""
    if isinstance(node, list):
        return [resolve(item, here) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = (here / node["$ref"].split("#")[0]).resolve()
        base = resolve(json.loads(target.read_text()), target.parent)
        overrides = {k: resolve(v, here) for k, v in node.items() if k != "$ref"}
        return _merge(base, overrides)
    return {key: resolve(value, here) for key, value in node.items()}


def load_samples() -> dict[str, dict[str, Any]]:
    """event_type -> resolved sample, shared reference first, then our local additions."""
    samples = {}
    assert SHARED.is_dir(), f"Nova's samples are missing: {SHARED}"
    for path in sorted(SHARED.glob("*.json")) + sorted(LOCAL.glob("*.json")):
        sample = json.loads(path.read_text())
        sample["payload"] = resolve(sample["payload"], SHARED)
        samples[sample["event_type"]] = sample
    return samples


def differences(actual: Any, sample: Any, path: str = "payload") -> list[str]:
    """Where ``actual`` differs in shape (object names, versions, keys) from ``sample``."""
    if isinstance(sample, list) and isinstance(actual, list):
        if sample and actual:
            return differences(actual[0], sample[0], f"{path}[0]")
        return []
    if not (isinstance(sample, dict) and "nova_object.name" in sample):
        return []
    if actual is None and path.rsplit(".", 1)[-1] in NULLABLE:
        return []
    if not isinstance(actual, dict):
        return [f"{path}: expected {sample['nova_object.name']}, got {actual!r}"]
    found = []
    for key in ("nova_object.name", "nova_object.version", "nova_object.namespace"):
        if actual.get(key) != sample[key]:
            found.append(f"{path}.{key}: {actual.get(key)!r} != {sample[key]!r}")
    if set(actual) != set(sample):
        found.append(f"{path}: envelope keys {sorted(actual)} != {sorted(sample)}")
    data, expected = actual.get("nova_object.data", {}), sample["nova_object.data"]
    if sample["nova_object.name"] not in VARIABLE_KEYS and set(data) != set(expected):
        found.append(f"{path}: missing {sorted(set(expected) - set(data))}, "
                     f"extra {sorted(set(data) - set(expected))}")
    for key, value in expected.items():
        if key in data:
            found += differences(data[key], value, f"{path}.{key}")
    return found
