"""NovaEventListener: the pool listener on Nova's notifications, with start/stop/wait.

    path = NovaEventListener(conf, MistralAPI.from_conf(conf), metrics=metrics)
    path.start()
    ...
    path.stop(); path.wait()      # in-flight events finish before wait() returns

Options come from [nova_notifications] (listener/conf/nova_notifications.py); the queue is the pool
``host-recovery-nova`` bound to ``<topic>.info`` and ``<topic>.error`` on exchange ``nova``.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from listener.host_down.dead_letter import DeadLetters
from listener.metrics import Metrics
from listener.nova.confirmer import Confirmer
from listener.nova.endpoint import NovaEndpoint
from listener.nova.waits import MistralWaits, Reads
from listener.redelivery import Redelivery, Settle
from notifications import messaging
from notifications.publisher import kombu_ssl, parse_transport_url

__all__ = ["NovaEventListener"]

LOG = logging.getLogger(__name__)


class NovaEventListener:
    """Owns one oslo notification listener in our pool; the confirmer can be injected."""

    def __init__(self, conf: cfg.ConfigOpts, mistral: Reads | None = None,
                 metrics: Metrics | None = None, confirmer: Confirmer | None = None,
                 transport: Any = None) -> None:
        opts = conf.nova_notifications
        if confirmer is None:
            if mistral is None:
                raise ValueError("NovaEventListener needs a Mistral facade or a confirmer")
            waits = MistralWaits(mistral, wait_action=opts.wait_action,
                                 instance_workflow=opts.instance_workflow,
                                 cache_ttl=opts.cache_ttl)
            confirmer = Confirmer(waits, metrics=metrics,
                                  pending_window=opts.pending_retry_window,
                                  mistral_retry_window=opts.mistral_retry_window)
        self.conf = conf
        self.confirmer = confirmer
        self.endpoint = NovaEndpoint(confirmer, metrics=metrics, legacy=opts.legacy,
                                     settle=settle_internal(conf))
        self._transport = transport or messaging.notification_transport(
            _nova_side_conf(conf), url=opts.transport_url or conf.transport_url)
        topics = [opts.topic] + ([opts.legacy_topic] if opts.legacy else [])
        self._targets = [messaging.target(topic, exchange=opts.exchange) for topic in topics]
        self._listener: Any = None

    def start(self) -> None:
        """Declare the pool queue (bindings included) and start consuming."""
        opts = self.conf.nova_notifications
        self._listener = messaging.notification_listener(
            self._transport, self._targets, [self.endpoint], pool=opts.pool,
            allow_requeue=True)
        self._listener.start()
        LOG.info("Consuming Nova notifications from exchange %s topic %s in pool %s",
                 opts.exchange, opts.topic, opts.pool)

    def stop(self) -> None:
        """Stop taking new messages; events waiting for their wait are requeued."""
        if self._listener is not None:
            self._listener.stop()
        stop = getattr(self.confirmer, "stop", None)
        if stop is not None:
            stop()

    def wait(self) -> None:
        """Wait until in-flight events are handled, then release the listener."""
        if self._listener is not None:
            self._listener.wait()
            self._listener = None


def settle_internal(conf: cfg.ConfigOpts) -> Settle:
    """Bounded retries into our pool queue, then our dead-letter queue."""
    opts = conf.nova_notifications
    redelivery = Redelivery(parse_transport_url(opts.transport_url or conf.transport_url),
                            queue=opts.pool, delay=conf.listener.redelivery_delay,
                            durable=opts.amqp_durable_queues,
                            ssl=kombu_ssl(conf.oslo_messaging_rabbit))
    return Settle(redelivery, DeadLetters.from_conf(conf), conf.listener.internal_attempts)


def _nova_side_conf(conf: cfg.ConfigOpts) -> cfg.ConfigOpts:
    """A copy of the listener's messaging options with Nova's durability.

    Durability is per ConfigOpts in oslo.messaging, and our host-down queues are durable
    while Nova's exchange follows nova.conf (non-durable by default): one conf cannot
    declare both.
    """
    nova_conf = cfg.ConfigOpts()
    messaging.register_transport_opts(nova_conf)
    nova_conf([], project="host-recovery-nova")
    group = "oslo_messaging_rabbit"
    for name in conf[group]:
        nova_conf.set_override(name, conf[group][name], group=group)
    nova_conf.set_override("amqp_durable_queues",
                           conf.nova_notifications.amqp_durable_queues, group=group)
    return nova_conf
