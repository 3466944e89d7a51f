"""The gate's decisions from Mistral's executions (pure): one incident per host, and the
mass-failure guard.

Every controller computes the same answer from Mistral's executions (the shared record),
ordered by (created_at, id):

* one running incident per host: an execution created while an earlier *leading* execution
  of another incident for the same host was unfinished joins it (``joined_to``); a leader is
  an execution that joined none. Decided from creation order and the end times Mistral
  records (``updated_at`` of a finished execution), not from when each gate happens to run;
* the guard: executions with attempt 1, created within ``window`` seconds before this one,
  whose host is not skipped by host policy, one per host (its earliest). Re-runs
  (attempt > 1) are operator decisions and bypass the guard.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

__all__ = ["incident_of", "joined_to", "limit", "rank_decision"]

UNFINISHED = ("IDLE", "RUNNING", "PAUSED")


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", ""))


def _created(execution: dict[str, Any]) -> datetime:
    return _time(execution["created_at"])


def _key(execution: dict[str, Any]) -> tuple[datetime, str]:
    return _created(execution), str(execution["id"])


def incident_of(execution: dict[str, Any]) -> str:
    return str((execution.get("input") or {}).get("incident_id") or execution["id"])


def _open_at(execution: dict[str, Any], moment: datetime) -> bool:
    """Unfinished at ``moment``: still unfinished, or it ended (updated_at) after it."""
    if str(execution.get("state") or "RUNNING") in UNFINISHED:
        return True
    ended = execution.get("updated_at")
    return ended is not None and _time(ended) > moment


def joined_to(me: dict[str, Any], executions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The leading execution of another incident for ``me``'s host that was unfinished when
    ``me`` was created (``me`` joins it), or None (``me`` leads)."""
    host = _host(me)
    if host is None:
        return None
    mine = _key(me)
    earlier = {str(e["id"]): e for e in executions
               if _host(e) == host and _key(e) < mine}
    leaders: list[dict[str, Any]] = []
    for execution in sorted(earlier.values(), key=_key):
        if _leader_for(execution, leaders) is None:
            leaders.append(execution)
    return _leader_for(me, leaders)


def _leader_for(execution: dict[str, Any], leaders: list[dict[str, Any]]
                ) -> dict[str, Any] | None:
    created = _created(execution)
    for leader in leaders:
        if incident_of(leader) != incident_of(execution) and _open_at(leader, created):
            return leader
    return None


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
