"""The request log benchmarks count: one entry per API request, bounded in memory."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any


class RequestLog:
    """Append-only (bounded) log with a running total that survives trimming."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._total = 0

    def add(self, service: str, method: str, path: str, microversion: str | None,
            status: int, duration: float, started: float, action: str | None = None
            ) -> None:
        """Record one request (``duration`` in seconds, ``started`` epoch seconds);
        ``action`` is the server action's name (``POST /servers/{id}/action``), else None."""
        entry = {"seq": 0, "service": service, "method": method, "path": path,
                 "microversion": microversion, "status": status,
                 "duration": round(duration, 6), "time": started, "action": action}
        with self._lock:
            self._total += 1
            entry["seq"] = self._total
            self._entries.append(entry)

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        """Entries with ``seq > since`` still in memory."""
        with self._lock:
            return [e for e in self._entries if e["seq"] > since]

    def summary(self) -> dict[str, Any]:
        """Counts by service, method, status and server action (``by_action``: requests;
        ``by_action_status``: "evacuate 200" -> count)."""
        with self._lock:
            entries = list(self._entries)
            total = self._total
        return {
            "total": total,
            "by_service": dict(Counter(e["service"] for e in entries)),
            "by_status": {str(k): v for k, v in Counter(e["status"] for e in entries).items()},
            "by_call": dict(Counter(f"{e['method']} {e['service']}" for e in entries)),
            "by_action": dict(Counter(e["action"] for e in entries if e["action"])),
            "by_action_status": dict(Counter(f"{e['action']} {e['status']}" for e in entries
                                             if e["action"])),
        }

    def clear(self) -> None:
        """Forget entries (the running total continues so ``since`` cursors stay valid)."""
        with self._lock:
            self._entries.clear()
