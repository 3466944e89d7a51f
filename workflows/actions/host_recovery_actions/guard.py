"""The mass-failure guard (pure): rank this incident among recent ones, hold beyond a limit.

Every controller computes the same answer from Mistral's executions (the shared record):
executions of ``host_recovery.recover_host`` with attempt 1, created within ``window`` seconds
before this one, whose host is not skipped by host policy, one per host (its earliest), ordered
by (created_at, id). Re-runs (attempt > 1) are operator decisions and bypass the guard.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

__all__ = ["limit", "rank_decision"]


def _created(execution: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(execution["created_at"]).replace("Z", ""))


def _host(execution: dict[str, Any]) -> str | None:
    opts = (execution.get("input") or {}).get("search_opts") or {}
    host = opts.get("host") if isinstance(opts, dict) else None
    return str(host) if host else None


def limit(max_hosts: int, max_fraction: float, compute_services: int) -> int:
    """Hosts allowed without approval: the smaller of both limits (the fraction is >= 1)."""
    by_fraction = max(1, math.floor(max_fraction * compute_services))
    return min(max_hosts, by_fraction)


def rank_decision(me: dict[str, Any], executions: list[dict[str, Any]],
                  host_enabled: Callable[[str], bool], window: int,
                  allowed: int) -> tuple[str, str, int]:
    """(decision proceed|hold, reason, rank) for execution ``me`` among ``executions``."""
    mine = _created(me)
    start = mine - timedelta(seconds=window)
    firsts: dict[str, tuple[datetime, str]] = {}
    for execution in [me, *executions]:
        host = _host(execution)
        attempt = int((execution.get("input") or {}).get("attempt") or 1)
        if host is None or attempt != 1 or not host_enabled(host):
            continue
        key = (_created(execution), str(execution["id"]))
        if not start <= key[0] <= mine:
            continue
        if host not in firsts or key < firsts[host]:
            firsts[host] = key
    host = _host(me) or ""
    ordered = sorted(firsts.values())
    rank = ordered.index(firsts[host]) + 1 if host in firsts else 1
    if rank <= allowed:
        return "proceed", f"host {rank} of {len(ordered)} failed within {window} s " \
                          f"(limit {allowed})", rank
    return "hold", f"mass failure: host {rank} of {len(ordered)} failed within {window} s " \
                   f"exceeds the limit of {allowed}; approve or discard", rank
