"""Host-level recovery policy as pure functions (the instance level is in
``instance_policy``, re-exported here).

Nothing here talks to Nova or reads files; callers pass what Nova returned. Precedence is
documented in docs/policy.md and tested in tests/unit/workflow/test_policy.py.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from .instance_policy import (
    LOCK_PREFIX,
    InstanceDecision,
    InstanceRules,
    decide_instance,
    order,
    truthy,
)

__all__ = [
    "HOST_FIELDS", "LOCK_PREFIX", "HostPolicy", "InstanceDecision", "InstanceRules", "coerce",
    "decide_instance", "order", "resolve_host_policy", "resolve_shared_storage", "truthy",
]

AGG_PREFIX = "host_recovery:"
HOST_FIELDS = ("enabled", "on_shared_storage", "max_concurrency", "target_hosts",
               "target_aggregate", "unfenced_recovery", "require_down_for", "mode",
               "reserved_hosts", "reserved_aggregate")
UNFENCED = ("allow", "deny")
# plan: shadow mode, a host-down is planned and recorded, nothing is evacuated or changed
MODES = ("recover", "plan")
DEFAULT_REQUIRE_DOWN_FOR = 120  # seconds of continuous "down" an unfenced opt-in waits
MAX_REQUIRE_DOWN_FOR = 3600     # the fence step waits this long at most (its timeout follows)


@dataclass
class HostPolicy:
    """The effective host policy, per field where it came from, and what was ignored."""

    enabled: bool = True
    on_shared_storage: bool | None = None
    max_concurrency: int | None = None
    target_hosts: list[str] = field(default_factory=list)
    target_aggregate: str | None = None
    unfenced_recovery: str = "deny"
    require_down_for: int = DEFAULT_REQUIRE_DOWN_FOR
    mode: str = "recover"
    # kept disabled in Nova, enabled by the plan when VMs fit nowhere else (reserved.py)
    reserved_hosts: list[str] = field(default_factory=list)
    reserved_aggregate: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "on_shared_storage": self.on_shared_storage,
                "max_concurrency": self.max_concurrency, "target_hosts": self.target_hosts,
                "target_aggregate": self.target_aggregate,
                "unfenced_recovery": self.unfenced_recovery,
                "require_down_for": self.require_down_for, "mode": self.mode,
                "reserved_hosts": self.reserved_hosts,
                "reserved_aggregate": self.reserved_aggregate, "sources": self.sources,
                "warnings": self.warnings}


def _aggregate_values(host: str, aggregates: list[dict[str, Any]]
                      ) -> dict[str, list[tuple[Any, str]]]:
    """Our keys from ``host``'s aggregates: per field, (value, aggregate name), lowest
    aggregate id first."""
    values: dict[str, list[tuple[Any, str]]] = {}
    for agg in sorted(aggregates, key=lambda a: a.get("id", 0)):
        if host not in (agg.get("hosts") or []):
            continue
        for key, value in (agg.get("metadata") or {}).items():
            if key.startswith(AGG_PREFIX):
                values.setdefault(key[len(AGG_PREFIX):], []).append(
                    (value, str(agg.get("name"))))
    return values


def _int(value: Any, low: int, high: int | None = None) -> tuple[int | None, str | None]:
    if isinstance(value, bool):
        return None, "is not an integer"
    try:
        number = int(str(value).strip())
    except ValueError:
        return None, "is not an integer"
    if number < low:
        return low, f"is below {low} (clamped to {low})"
    if high is not None and number > high:
        return high, f"is above {high} (clamped to {high})"
    return number, None


def coerce(name: str, value: Any) -> tuple[Any, str | None]:
    """(value, problem) of one host-policy field; the value is None when it is unusable."""
    if name in ("enabled", "on_shared_storage"):
        parsed = truthy(value)
        return parsed, None if parsed is not None else "is not a boolean"
    if name == "max_concurrency":
        return _int(value, 1)
    if name == "require_down_for":
        return _int(value, 0, MAX_REQUIRE_DOWN_FOR)
    if name == "unfenced_recovery":
        text = str(value).strip().lower()
        return (text, None) if text in UNFENCED else (None, "is not allow or deny")
    if name == "mode":
        text = str(value).strip().lower()
        return (text, None) if text in MODES else (None, "is not recover or plan")
    if name in ("target_hosts", "reserved_hosts"):
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()], None
        if isinstance(value, list) and all(isinstance(h, str) for h in value):
            return list(value), None
        return None, "is not a list of host names"
    if isinstance(value, str) and value.strip():
        return value.strip(), None
    return None, "is not a name"


def resolve_host_policy(host: str, rules: list[dict[str, Any]],
                        aggregates: list[dict[str, Any]]) -> HostPolicy:
    """Per field: first matching host-policy-file rule, then aggregate metadata, then default.

    ``rules`` are the file's entries in order (host_policy.load_rules), each with ``match``
    (a shell pattern) and any of HOST_FIELDS. A bad value never raises: it is ignored (the
    next source decides) and named in ``warnings``; so are the file's own problems.
    """
    policy = HostPolicy(warnings=list(getattr(rules, "problems", [])))
    rule = next((r for r in rules if isinstance(r, dict)
                 and fnmatch.fnmatchcase(host, str(r.get("match", "")))), None)
    agg_values = _aggregate_values(host, aggregates)
    for name in HOST_FIELDS:
        candidates: list[tuple[Any, str, str]] = []
        if rule is not None and rule.get(name) is not None:
            where = f"host-policy:{rule['match']}"
            candidates.append((rule[name], where, f"host policy rule {rule['match']!r}: {name}"))
        for value, agg in agg_values.get(name, []):
            candidates.append((value, f"aggregate:{agg}",
                               f"aggregate {agg}: {AGG_PREFIX}{name}"))
        for raw, source, label in candidates:
            value, problem = coerce(name, raw)
            if problem:
                ignored = " (ignored)" if value is None else ""
                policy.warnings.append(f"{label}={raw} {problem}{ignored}")
            if value is None:
                continue
            setattr(policy, name, value)
            policy.sources[name] = source
            break
    return policy


def resolve_shared_storage(policy: HostPolicy, incident_value: bool | None, default: bool,
                           nova_decides: bool) -> dict[str, Any]:
    """Host policy over the incident's value over the default; recorded only from 2.14."""
    if policy.on_shared_storage is not None:
        value, source = policy.on_shared_storage, policy.sources["on_shared_storage"]
    elif incident_value is not None:
        value, source = bool(incident_value), "incident"
    else:
        value, source = default, "default"
    return {"value": value, "source": source, "sent": not nova_decides}
