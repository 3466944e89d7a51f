"""The re-check before every evacuate: is the source host still dead?

The plan step records a *baseline* (``plan.settings.source``): the service's ``updated_at``
as our own last write returned it (the fence step's force-down) or, without a write, as the
fence step read it; whether this incident was proven dead by fencing evidence; whether we
forced the service down. Before each evacuate the service is read again (one read per host
per second in this executor process, shared by that host's VMs) and compared:

* still dead: ``state`` is down and ``updated_at`` has not advanced past the baseline (Nova's
  API exposes the row's last update, not the heartbeat: only Nova timestamps are compared);
* returned: anything else (up, a newer ``updated_at``, the service gone).

A host never proven dead that returns stops the recovery (``stop``); a host proven dead by
fencing that returns (Pacemaker's default fence action is reboot) is recorded and the
recovery continues: the fencing proved its guests dead at that moment.

Usage::

    base = source_check.baseline(host, incident_id, fence_output, proven_dead, service)
    verdict = source_check.check(nova, base)      # {"returned", "stop", "reason", ...}
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["CACHE", "ServiceCache", "baseline", "check", "judge", "nova_time"]

TTL = 1.0  # seconds: at most one read of a host's service per second per process


def nova_time(value: Any) -> datetime | None:
    """A Nova timestamp ("2024-01-01T10:00:00.000000", "...Z", naive = UTC) or None."""
    if not value:
        return None
    text = str(value).strip().replace(" ", "T")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def baseline(host: str, incident_id: str, fence: dict[str, Any] | None, proven_dead: bool,
             service: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the re-check compares with, from the fence step's output.

    ``service`` (a read made now) is the fallback baseline when the fence output has no
    ``updated_at`` (then ``baseline_from`` says so: a weaker baseline, taken later).
    """
    fenced = (fence or {}).get("service") or {}
    updated_at, source = fenced.get("updated_at"), "fence"
    if not updated_at and service is not None:
        updated_at, source = service.get("updated_at"), "plan"
    return {"host": host, "incident_id": incident_id, "proven_dead": bool(proven_dead),
            "forced_by_us": bool((fence or {}).get("forced_down")),
            "updated_at": updated_at, "baseline_from": source if updated_at else None}


def judge(service: dict[str, Any] | None, base: dict[str, Any]) -> str | None:
    """Why the host is back (or cannot be shown still dead); None when still dead."""
    host = base.get("host")
    if service is None:
        return f"no nova-compute service on {host} any more"
    if service.get("state") != "down":
        return f"nova-compute on {host} is {service.get('state')} again"
    before, now = nova_time(base.get("updated_at")), nova_time(service.get("updated_at"))
    if before is not None and now is not None and now > before:
        return (f"nova-compute on {host} updated at {service.get('updated_at')}, after "
                f"{base.get('updated_at')} ({base.get('baseline_from')}): it reports again")
    return None


class ServiceCache:
    """Per-process reads of a host's nova-compute service, at most one per ``ttl`` seconds
    per (Nova facade, host); concurrent callers for one host wait for the same read."""

    def __init__(self, ttl: float = TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._host_locks: dict[tuple[int, str], threading.Lock] = {}
        self._reads: dict[tuple[int, str], tuple[float, dict[str, Any] | None]] = {}
        self.reads = 0  # Nova reads made (tests and logs)

    def service(self, nova: Any, host: str) -> dict[str, Any] | None:
        """The host's nova-compute service (None when Nova has none), at most ttl old."""
        key = (id(nova), host)
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:
            cached = self._reads.get(key)
            if cached is not None and self.clock() - cached[0] < self.ttl:
                return cached[1]
            services = nova.compute_services(host)
            found = dict(services[0]) if services else None
            with self._lock:
                self.reads += 1
                if len(self._reads) > 1000:  # hosts come and go; keep it small
                    self._reads.clear()
                self._reads[key] = (self.clock(), found)
            return found


# One per executor process on purpose: the point is that a host's VMs share the read.
CACHE = ServiceCache()


def check(nova: Any, base: dict[str, Any] | None, host: str | None = None,
          cache: ServiceCache | None = None) -> dict[str, Any]:
    """``{"returned": bool, "stop": bool, "reason": str|None, "service": {...}}``.

    Without a baseline (a workflow older than the re-check) only the state is compared and
    the host counts as never proven dead: the safe side.
    """
    base = dict(base or {"host": host, "proven_dead": False})
    service = (cache or CACHE).service(nova, str(base.get("host") or host))
    why = judge(service, base)
    brief = {k: (service or {}).get(k) for k in ("state", "forced_down", "updated_at")}
    return {"returned": why is not None, "stop": why is not None and not base["proven_dead"],
            "reason": why, "service": brief}


def incident_end(nova: Any, plan: dict[str, Any] | None, lines: list[dict[str, Any]],
                 cache: ServiceCache | None = None) -> dict[str, Any] | None:
    """The incident's record of its source host at the end: ``{"returned", "proven_dead",
    "reason", "service", "moved", "not_moved", "outcome"}``; ``outcome`` is
    ``host_returned`` when a host never proven dead came back (the VMs moved before may
    have run twice: loud), else None. None without a baseline (no plan)."""
    base = ((plan or {}).get("settings") or {}).get("source")
    if not base:
        return None
    stopped = [line for line in lines if line.get("result") == "not_moved"]
    try:
        verdict = check(nova, base, cache=cache)
    except Exception as exc:  # Nova down at the very end: the VMs' records still tell
        verdict = {"returned": False, "reason": f"not re-checked: {exc}", "service": None}
    returned = bool(verdict["returned"] or stopped)
    reason = verdict["reason"] or (stopped[0].get("reason") if stopped else None)
    return {"returned": returned, "proven_dead": bool(base.get("proven_dead")),
            "reason": reason, "service": verdict["service"],
            "moved": [line["id"] for line in lines if line.get("result") == "evacuated"],
            "not_moved": [line["id"] for line in lines
                          if line.get("result") not in ("evacuated", "skipped")],
            "outcome": "host_returned" if returned and not base.get("proven_dead") else None}


def describe(host: str, source: dict[str, Any], reason: str | None) -> str:
    """The incident's reason when its source host returned."""
    text = (f"{host} returned during the recovery ({source['reason']}): "
            f"{len(source['moved'])} VMs moved, {len(source['not_moved'])} not moved")
    return text if source["outcome"] else f"{reason}; {text}, recovery continued (fenced)"
