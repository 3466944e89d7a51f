"""The one seam to oslo.messaging: a Notifier that publishes as Nova does.

Exchange ``nova`` (per-ConfigOpts ``control_exchange``), topic ``versioned_notifications``,
driver ``messagingv2`` (the oslo v2 envelope), threading backend (no eventlet).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

SendFn = Callable[[str, str, str, dict[str, Any]], None]
"""(publisher_id, event_type, priority, payload) -> None"""


def select_threading_backend() -> None:
    """Pick oslo.service's threading backend before oslo.messaging is imported."""
    # Imported here, not at module top: the backend must be chosen before oslo_messaging.
    from oslo_service import backend

    # A second call (tests, or a host process that chose already) raises: that is fine
    # as long as the choice was threading.
    with contextlib.suppress(Exception):
        backend.init_backend(backend.BackendType.THREADING)
    if backend.get_backend_type() != backend.BackendType.THREADING:
        raise RuntimeError("oslo.service already uses the eventlet backend")


class NovaNotifier:
    """Publishes Nova-shaped notifications to ``transport_url``; one per process."""

    def __init__(self, transport_url: str, exchange: str = "nova",
                 topic: str = "versioned_notifications") -> None:
        select_threading_backend()
        import oslo_messaging
        from oslo_config import cfg

        conf = cfg.ConfigOpts()
        for group, opts in oslo_messaging.opts.list_opts():
            conf.register_opts(opts, group=group)
        conf([], project="host-recovery-simulator")
        conf.set_override("control_exchange", exchange)
        self._transport = oslo_messaging.get_notification_transport(conf, url=transport_url)
        self._base = oslo_messaging.Notifier(
            self._transport, publisher_id="nova-api:simulator", driver="messagingv2",
            topics=[topic], retry=-1)
        self._prepared: dict[str, Any] = {}

    def send(self, publisher_id: str, event_type: str, priority: str,
             payload: dict[str, Any]) -> None:
        """Publish one notification (blocking; call it from the publisher thread)."""
        notifier = self._prepared.get(publisher_id)
        if notifier is None:
            notifier = self._base.prepare(publisher_id=publisher_id)
            self._prepared[publisher_id] = notifier
        method = getattr(notifier, priority.lower())
        method({}, event_type, payload)

    def close(self) -> None:
        """Release the broker connections."""
        self._transport.cleanup()
