"""HostDownListener: the competing consumer of host-downs, with start/stop/wait.

    path = HostDownListener(conf, mistral, dead_letters, metrics=metrics, stopping=stopping)
    path.start()
    ...
    path.stop(); path.wait()      # in-flight host-downs finish (or requeue) first

Every listener consumes the topic's own queue ``<[host_down] topic>.info`` (pool None), so
one host-down goes to one listener; the starter turns it into one Mistral execution.
"""

from __future__ import annotations

import threading
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from listener.host_down.dead_letter import DeadLetters
from listener.host_down.endpoint import HostDownEndpoint
from listener.host_down.starter import Executions, RecoveryStarter
from listener.metrics import Metrics
from listener.redelivery import Redelivery
from notifications import contract, host_down, messaging
from notifications.publisher import kombu_ssl, parse_transport_url

__all__ = ["HostDownListener"]

LOG = logging.getLogger(__name__)


class HostDownListener:
    """Owns the host-down starter, its endpoint and one oslo notification listener."""

    def __init__(self, conf: cfg.ConfigOpts, mistral: Executions, dead_letters: DeadLetters,
                 metrics: Metrics | None = None, stopping: threading.Event | None = None,
                 transport: Any = None) -> None:
        self.conf = conf
        stopping = stopping or threading.Event()
        redelivery = Redelivery(
            parse_transport_url(conf.transport_url), queue=f"{conf.host_down.topic}.info",
            delay=conf.listener.redelivery_delay, stopping=stopping,
            durable=conf.oslo_messaging_rabbit.amqp_durable_queues,
            ssl=kombu_ssl(conf.oslo_messaging_rabbit))
        self.starter = RecoveryStarter(
            mistral, dead_letters, lambda payload: host_down.parse_with_conf(payload, conf),
            workflow=contract.RECOVER_HOST, event_type=conf.host_down.event_type,
            retry_window=conf.listener.retry_window,
            retry_initial_delay=conf.listener.retry_initial_delay,
            retry_max_delay=conf.listener.retry_max_delay, stopping=stopping, metrics=metrics,
            redelivery=redelivery, verify_attempts=conf.listener.verify_attempts,
            internal_attempts=conf.listener.internal_attempts)
        self.endpoint = HostDownEndpoint(self.starter)
        self._transport = transport
        self._listener: Any = None

    def start(self) -> None:
        """Declare the durable queue and start consuming."""
        conf = self.conf
        if self._transport is None:
            self._transport = messaging.notification_transport(conf)
        target = messaging.target(conf.host_down.topic, conf.host_down.exchange)
        # pool=None: every listener consumes the topic's own queue (competing consumers)
        self._listener = messaging.notification_listener(
            self._transport, [target], [self.endpoint], pool=None, allow_requeue=True)
        self._listener.start()
        LOG.info("Listener %s consuming host-downs from queue %s.info in exchange %s "
                 "(prefetch %s, retry window %s s)", conf.listener.name,
                 conf.host_down.topic, conf.host_down.exchange,
                 conf.oslo_messaging_rabbit.rabbit_qos_prefetch_count,
                 conf.listener.retry_window)

    def stop(self) -> None:
        """Stop taking new host-downs (a handler in backoff requeues at once)."""
        self.starter.stopping.set()
        if self._listener is not None:
            self._listener.stop()

    def wait(self) -> None:
        """Wait until in-flight host-downs are handled, then release the transport."""
        if self._listener is not None:
            self._listener.wait()
            self._listener = None
        if self._transport is not None:
            self._transport.cleanup()
            self._transport = None
