"""Nova's notifier, built through the project's messaging seam (``notifications.messaging``):
exchange ``nova`` (a per-ConfigOpts ``control_exchange``), topic ``versioned_notifications``,
driver ``messagingv2`` (the oslo v2 envelope), threading backend (no eventlet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from notifications import messaging

SendFn = Callable[[str, str, str, dict[str, Any]], None]
"""(publisher_id, event_type, priority, payload) -> None"""


class NovaNotifier:
    """Publishes Nova-shaped notifications to ``transport_url``; one per process."""

    def __init__(self, transport_url: str, exchange: str = "nova",
                 topic: str = "versioned_notifications") -> None:
        conf = cfg.ConfigOpts()
        messaging.register_transport_opts(conf)
        conf([], project="host-recovery-simulator")
        # Per-ConfigOpts, not set_transport_defaults(): that one is process-global.
        conf.set_override("control_exchange", exchange)
        self._transport = messaging.notification_transport(conf, url=transport_url)
        self._base = messaging.notifier(self._transport, "nova-api:simulator", [topic],
                                        retry=-1)
        self._prepared: dict[str, Any] = {}

    def send(self, publisher_id: str, event_type: str, priority: str,
             payload: dict[str, Any]) -> None:
        """Publish one notification (blocking; call it from the publisher thread)."""
        notifier = self._prepared.get(publisher_id)
        if notifier is None:
            notifier = self._base.prepare(publisher_id=publisher_id)
            self._prepared[publisher_id] = notifier
        getattr(notifier, priority.lower())({}, event_type, payload)

    def close(self) -> None:
        """Release the broker connections."""
        self._transport.cleanup()
