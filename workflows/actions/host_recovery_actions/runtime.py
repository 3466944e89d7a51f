"""What an action run needs, built fresh from the actions config on every run.

Usage (in an action)::

    rt = runtime.build()
    rt.nova.server(server_id); rt.notify(*events.instance(...))

Tests replace ``FACTORY`` to inject a fake Nova, Mistral and notifier.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from . import config
from .mistral_api import MistralAPI
from .nova import NovaFacade

__all__ = ["FACTORY", "Runtime", "build"]

LOG = logging.getLogger(__name__)
_NOTIFIERS: dict[tuple[str, str], Any] = {}
_NOTIFIERS_LOCK = threading.Lock()


@dataclass
class Runtime:
    """Config plus lazily built Nova and Mistral facades and a notification sender."""

    conf: cfg.ConfigOpts
    nova_factory: Callable[[cfg.ConfigOpts], Any] = NovaFacade.from_config
    mistral_factory: Callable[[cfg.ConfigOpts], Any] = MistralAPI.from_config
    sender: Callable[[cfg.ConfigOpts, str, dict[str, Any], str], None] | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def nova(self) -> Any:
        if "nova" not in self._cache:
            self._cache["nova"] = self.nova_factory(self.conf)
        return self._cache["nova"]

    @property
    def mistral(self) -> Any:
        if "mistral" not in self._cache:
            self._cache["mistral"] = self.mistral_factory(self.conf)
        return self._cache["mistral"]

    def notify(self, event_type: str, payload: dict[str, Any], priority: str = "info") -> None:
        """Publish one of our notifications; never raises (dashboards are not the job)."""
        send = self.sender or _oslo_send
        try:
            send(self.conf, event_type, payload, priority)
        except Exception:
            LOG.exception("could not send %s for incident %s", event_type,
                          payload.get("incident_id"))


def _oslo_send(conf: cfg.ConfigOpts, event_type: str, payload: dict[str, Any],
               priority: str) -> None:
    url = conf.notifications.transport_url
    if not url:
        return
    import oslo_messaging  # lazily: only when notifications are configured

    key = (url, conf.notifications.topic)
    with _NOTIFIERS_LOCK:
        notifier = _NOTIFIERS.get(key)
        if notifier is None:
            transport = oslo_messaging.get_notification_transport(conf, url=url)
            notifier = oslo_messaging.Notifier(
                transport, publisher_id=f"host-recovery.actions:{socket.gethostname()}",
                driver="messagingv2", topics=[conf.notifications.topic])
            _NOTIFIERS[key] = notifier
    getattr(notifier, priority)({}, event_type, payload)


def _default_factory() -> Runtime:
    return Runtime(config.load())


FACTORY: Callable[[], Runtime] = _default_factory


def build() -> Runtime:
    """A Runtime for this action run (config re-read every time)."""
    return FACTORY()
