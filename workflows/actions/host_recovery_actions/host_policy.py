"""Reading the host policy file (YAML): a list of host name patterns and their policy.

Format (etc/host-recovery/host-policy.yaml)::

    hosts:
      - match: "compute-db-*"
        enabled: true
        on_shared_storage: true
        max_concurrency: 2
        target_aggregate: db-spares
"""

from __future__ import annotations

import os
from typing import Any

import yaml

__all__ = ["load_rules"]

FIELDS = {"match", "enabled", "on_shared_storage", "max_concurrency", "target_hosts",
          "target_aggregate"}


def load_rules(path: str | None) -> list[dict[str, Any]]:
    """The file's rules in order; a missing file means no rules. Unknown keys are errors."""
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as stream:
        doc = yaml.safe_load(stream) or {}
    rules = doc.get("hosts") or [] if isinstance(doc, dict) else []
    if not isinstance(rules, list):
        raise ValueError(f"{path}: 'hosts' must be a list")
    for rule in rules:
        if not isinstance(rule, dict) or "match" not in rule:
            raise ValueError(f"{path}: every rule needs 'match': {rule!r}")
        unknown = set(rule) - FIELDS
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)} in {rule!r}")
    return list(rules)
