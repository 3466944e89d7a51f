"""Nova's notification samples (tests/data, vendored) with their ``$ref``s resolved.

A sample's payload may be ``{"$ref": "common_payloads/X.json#", ...overrides}``: the
referenced file is the base object and the keys beside ``$ref`` override it, recursively.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent / "data" / "nova-notification-samples"


def merge(base: Any, over: Any) -> Any:
    """``over`` laid over ``base``: dicts merge recursively, anything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(over)


def resolve(node: Any, here: Path = SAMPLES) -> Any:
    """Replace every ``{"$ref": file, ...overrides}`` under ``node`` by the merged object."""
    if isinstance(node, list):
        return [resolve(item, here) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"].split("#")[0]
        target = here / ref if (here / ref).exists() else SAMPLES / "common_payloads" / ref
        base = resolve(json.loads(target.read_text()), target.parent)
        return merge(base, {k: resolve(v, here) for k, v in node.items() if k != "$ref"})
    return {key: resolve(value, here) for key, value in node.items()}


def sample(name: str) -> dict[str, Any]:
    """A resolved sample by file stem, e.g. ``instance-rebuild-end``."""
    assert SAMPLES.is_dir(), f"Nova's samples are missing: {SAMPLES}"
    resolved: dict[str, Any] = resolve(json.loads((SAMPLES / f"{name}.json").read_text()))
    return resolved
