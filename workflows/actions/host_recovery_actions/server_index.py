"""Every server of the cloud, kept in the executor's memory and refreshed incrementally.

The failover-capacity analysis needs each server's host, flavor and metadata: on a cloud of
50,000 VMs that is 50 pages of Nova's server listing, most of the analysis's time, while
between two analyses (the listener refreshes every 300 s) few servers change. The first read
lists every server; the next ones ask Nova only for those changed since the previous read
(``changes-since``, which also returns deleted servers), starting a margin before Nova's own
clock at that read (its ``Date`` header: never our clock, Nova's API nodes may differ from
ours). Every ``full_every`` seconds, and after any failed incremental read, everything is
read again: Nova does not move ``updated_at`` for every change (metadata edited alone).

The index lives per process and per Nova facade (the facade is cached per process and per
[nova] options: runtime.cached_nova)::

    servers = server_index.for_facade(nova).servers(client, full_every=900)
"""

from __future__ import annotations

import email.utils
import threading
import time
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any

from oslo_log import log as logging

__all__ = ["MARGIN", "ServerIndex", "for_facade"]

LOG = logging.getLogger(__name__)
# how far before Nova's clock at the last read the next one starts: covers a server changed
# while the pages were read, and API nodes whose clocks differ (re-reading is harmless)
MARGIN = timedelta(seconds=60)
_GONE = ("DELETED",)
_INDEXES: weakref.WeakKeyDictionary[Any, ServerIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def for_facade(nova: Any) -> ServerIndex:
    """The process's index for this Nova facade (created empty on first use)."""
    with _INDEXES_LOCK:
        index = _INDEXES.get(nova)
        if index is None:
            index = _INDEXES[nova] = ServerIndex()
        return index


def _nova_time(date: str | None) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(date).astimezone(UTC) if date else None
    except (TypeError, ValueError):
        return None


class ServerIndex:
    """Servers by id and the Nova time the next incremental read starts from."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # one read at a time: two analyses share the result
        self._by_id: dict[str, dict[str, Any]] = {}
        self._since: datetime | None = None
        self._full_at = float("-inf")
        self.last_read = "none"  # "full" or "incremental (N changed)": for the report

    def servers(self, client: Any, full_every: float) -> list[dict[str, Any]]:
        """Every server now; ``client.servers_dated`` reads Nova (placement.PlacementClient)."""
        with self._lock:
            if self._since is None or full_every <= 0 or \
                    self._clock() - self._full_at >= full_every:
                self._read_all(client)
            else:
                self._read_changes(client, self._since)
            return list(self._by_id.values())

    def _read_all(self, client: Any) -> None:
        started = self._clock()
        servers, date = client.servers_dated()
        self._by_id = {str(s["id"]): s for s in servers}
        self._full_at = started
        self._since = self._next_since(date)
        self.last_read = "full"

    def _read_changes(self, client: Any, since: datetime) -> None:
        try:
            changed, date = client.servers_dated(
                changes_since=since.strftime("%Y-%m-%dT%H:%M:%SZ"))
        except Exception:
            # the index may now miss a change: the next read must be a full one
            self._since = None
            raise
        for server in changed:
            if server.get("status") in _GONE:
                self._by_id.pop(str(server["id"]), None)
            else:
                self._by_id[str(server["id"])] = server
        self._since = self._next_since(date)
        self.last_read = f"incremental ({len(changed)} changed)"
        LOG.debug("server index: %d changed since %s, %d servers", len(changed), since,
                  len(self._by_id))

    @staticmethod
    def _next_since(date: str | None) -> datetime | None:
        """Nova's clock at this read minus the margin; None (next read full) if unknown."""
        now = _nova_time(date)
        return now - MARGIN if now else None
