"""The one seam to oslo.messaging: transports, notifiers and notification listeners.

Every oslo.messaging object in host-recovery is built here, so tests patch one place and the
threading (no eventlet) set-up happens before oslo.messaging is first imported::

    from notifications import messaging
    transport = messaging.notification_transport(conf)
    listener = messaging.notification_listener(transport, targets, endpoints, pool=None)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg

from notifications.dispatch_guard import DispatchGuard

_backend_lock = threading.Lock()
_backend_ready = False


def use_threading_backend() -> None:
    """Select oslo.service's threading backend (once, before oslo.messaging is imported).

    Without it oslo.messaging pulls oslo.service's eventlet backend and its deprecation
    warnings; we run the threading executor everywhere.
    """
    global _backend_ready
    with _backend_lock:
        if _backend_ready:
            return
        from oslo_service import backend

        # init_backend refuses a second initialisation (another library may have done it).
        with contextlib.suppress(Exception):
            backend.init_backend(backend.BackendType.THREADING)
        _backend_ready = True


def _oslo_messaging() -> Any:
    use_threading_backend()
    import oslo_messaging

    return oslo_messaging


def notification_transport(conf: cfg.ConfigOpts, url: str | None = None) -> Any:
    """A notification transport for ``url`` (default: conf.transport_url)."""
    om = _oslo_messaging()
    return om.get_notification_transport(conf, url=url)


def target(topic: str, exchange: str | None = None) -> Any:
    """An oslo.messaging Target for a notification topic in ``exchange``."""
    om = _oslo_messaging()
    return om.Target(topic=topic, exchange=exchange)


def notifier(transport: Any, publisher_id: str, topics: Sequence[str],
             driver: str = "messagingv2", retry: int | None = None) -> Any:
    """An oslo Notifier with the v2 envelope (what Nova and third parties use)."""
    om = _oslo_messaging()
    return om.Notifier(transport, publisher_id=publisher_id, driver=driver,
                       topics=list(topics), retry=retry)


def notification_listener(transport: Any, targets: Sequence[Any], endpoints: Sequence[Any],
                          pool: str | None = None, allow_requeue: bool = True) -> Any:
    """A notification listener on the threading executor.

    ``pool=None`` consumes the topic's own queue (shared by every such listener: competing
    consumers); a pool name gives this group of listeners its own queue (a copy of the stream).
    """
    om = _oslo_messaging()
    listener = om.get_notification_listener(
        transport, list(targets), list(endpoints), executor="threading",
        allow_requeue=allow_requeue, pool=pool,
    )
    # a body oslo cannot route (priority not one of its own) still reaches our endpoints
    listener.dispatcher = DispatchGuard(listener.dispatcher, list(endpoints))
    return listener


def handled() -> Any:
    """NotificationResult.HANDLED (ack)."""
    return _oslo_messaging().NotificationResult.HANDLED


def requeue() -> Any:
    """NotificationResult.REQUEUE (needs allow_requeue=True, else it is acked silently)."""
    return _oslo_messaging().NotificationResult.REQUEUE


def register_transport_opts(conf: cfg.ConfigOpts) -> None:
    """Register oslo.messaging's own options (transport_url, [oslo_messaging_rabbit]...)."""
    use_threading_backend()
    from oslo_messaging import opts as om_opts

    for group, opts in om_opts.list_opts():
        conf.register_opts(list(opts), group=group)


#: Bounded prefetch so competing listeners share the stream (oslo's default 0 lets one
#: listener take every message); design.md §6.
PREFETCH = 4


def set_messaging_defaults(conf: cfg.ConfigOpts) -> None:
    """Our [oslo_messaging_rabbit] defaults, on this ConfigOpts only (never process-global).

    Producers and consumers must agree on durability, or the broker refuses the declaration
    (PRECONDITION_FAILED) or drops messages: every host-recovery service calls this.
    """
    conf.set_default("rabbit_qos_prefetch_count", PREFETCH, group="oslo_messaging_rabbit")
    conf.set_default("amqp_durable_queues", True, group="oslo_messaging_rabbit")
