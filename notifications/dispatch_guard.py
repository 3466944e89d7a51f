"""Bodies oslo's notification dispatcher cannot route still reach our endpoints.

oslo's dispatcher reads ``priority`` with ``message.get('priority', '').lower()``: a
non-string priority raises before any endpoint runs, and the server *requeues* on that
exception, forever (a hot loop found by the fuzz test); a string priority it does not know
is logged and *acked*, unseen. Both kinds go to the endpoints' ``notify`` instead, which
judge them like any other body (dead letter with a reason, bounded retries)::

    listener = oslo_messaging.get_notification_listener(...)
    listener.dispatcher = DispatchGuard(listener.dispatcher, endpoints)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oslo_log import log as logging

__all__ = ["DispatchGuard", "routable"]

LOG = logging.getLogger(__name__)

#: oslo.messaging's notify/dispatcher.py PRIORITIES
PRIORITIES = frozenset({"audit", "debug", "info", "warn", "error", "critical", "sample"})


def routable(message: Any) -> bool:
    """True when oslo's dispatcher can route ``message`` to an endpoint method."""
    try:
        priority = message.get("priority", "")
    except Exception:  # not a mapping: oslo would raise too
        return False
    return isinstance(priority, str) and priority.lower() in PRIORITIES


class DispatchGuard:
    """Wraps oslo's NotificationDispatcher; unroutable bodies go to ``endpoint.notify``."""

    def __init__(self, dispatcher: Any, endpoints: Sequence[Any]) -> None:
        self._dispatcher = dispatcher
        self._notify = [e.notify for e in endpoints if callable(getattr(e, "notify", None))]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dispatcher, name)

    def dispatch(self, incoming: Any) -> Any:
        message = incoming.message
        if routable(message) or not self._notify:
            return self._dispatcher.dispatch(incoming)
        raw = message.get("priority") if hasattr(message, "get") else None
        priority = raw if isinstance(raw, str) else repr(raw)[:64]
        LOG.warning("Notification %s with priority %s that oslo cannot route: handed to our "
                    "endpoint", str(message.get("message_id"))[:64], priority[:64])
        ctxt = incoming.ctxt if isinstance(incoming.ctxt, dict) else {}
        metadata = {"message_id": message.get("message_id"),
                    "timestamp": message.get("timestamp")}
        result = None
        for notify in self._notify:
            result = notify(priority, ctxt, message.get("publisher_id"),
                            message.get("event_type"), message.get("payload"), metadata)
            if result == self._dispatcher_requeue():
                return result
        return result

    @staticmethod
    def _dispatcher_requeue() -> Any:
        from oslo_messaging.notify.dispatcher import NotificationResult

        return NotificationResult.REQUEUE
