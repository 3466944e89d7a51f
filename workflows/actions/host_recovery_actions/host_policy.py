"""Reading the host policy file (YAML): a list of host name patterns and their policy.

Format (etc/host-recovery/host-policy.yaml)::

    hosts:
      - match: "compute-db-*"
        enabled: true
        on_shared_storage: true
        max_concurrency: 2
        target_aggregate: db-spares
        unfenced_recovery: deny        # allow: recover without fencing evidence ...
        require_down_for: 120          # ... once Nova shows the service down this long
        mode: recover                  # plan: shadow mode, plan and record, evacuate nothing
        reserved_hosts: [compute-db-spare-1]  # kept disabled; enabled when VMs fit nowhere
        # reserved_aggregate: db-reserve      # ... or the hosts of this aggregate

Reading never raises: recovery must not stop on a policy typo. A file of the wrong shape is
refused as a whole (``Rules.problems`` says why; the hosts then use the defaults), a bad rule
is skipped, an unknown key is ignored; values are validated where they are used
(policy.resolve_host_policy). ``check`` gives the same problems to ``workflow check``.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from .policy import HOST_FIELDS, coerce

__all__ = ["Rules", "check", "load_rules"]

FIELDS = {"match", *HOST_FIELDS}


class Rules(list[dict[str, Any]]):
    """The file's usable rules in order, and what was wrong with the file."""

    def __init__(self, rules: list[dict[str, Any]] | None = None,
                 problems: list[str] | None = None) -> None:
        super().__init__(rules or [])
        self.problems: list[str] = list(problems or [])


def _parse(path: str, doc: Any) -> Rules:
    refused = f"host policy file {path} refused, every host uses the defaults:"
    if doc is None:
        return Rules()
    if not isinstance(doc, dict):
        return Rules(problems=[f"{refused} its top level is a {type(doc).__name__}, not a "
                               "mapping with 'hosts'"])
    unknown_top = sorted(set(doc) - {"hosts"})
    rules = doc.get("hosts") or []
    if not isinstance(rules, list):
        return Rules(problems=[f"{refused} 'hosts' is a {type(rules).__name__}, not a list"])
    found = Rules(problems=[f"host policy file {path}: unknown top-level key {k!r} (ignored)"
                            for k in unknown_top])
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), str):
            found.problems.append(f"host policy file {path}: rule {index + 1} has no 'match' "
                                  f"pattern (rule ignored): {rule!r}")
            continue
        for key in sorted(set(rule) - FIELDS):
            found.problems.append(f"host policy file {path}: rule {rule['match']!r}: "
                                  f"unknown key {key!r} (ignored)")
        found.append({k: v for k, v in rule.items() if k in FIELDS})
    return found


def load_rules(path: str | None) -> Rules:
    """The file's rules in order; a missing file means no rules (and no problem)."""
    if not path or not os.path.exists(path):
        return Rules()
    try:
        with open(path, encoding="utf-8") as stream:
            doc = yaml.safe_load(stream)
    except (OSError, yaml.YAMLError) as exc:
        return Rules(problems=[f"host policy file {path} refused, every host uses the "
                               f"defaults: {exc}"])
    return _parse(path, doc)


def check(path: str) -> list[str]:
    """Problems of the policy file at ``path`` (for ``host-recovery workflow check``): the
    file's shape, then every rule's values. Empty when it is fine or absent."""
    rules = load_rules(path)
    problems = list(rules.problems)
    # the same validation the gate and plan apply
    for rule in rules:
        for name in HOST_FIELDS:
            if rule.get(name) is not None:
                _, problem = coerce(name, rule[name])
                if problem:
                    problems.append(f"host policy file {path}: rule {rule['match']!r}: "
                                    f"{name}={rule[name]} {problem}")
    return problems
