"""The ``oslo.config.opts.defaults`` hook: samples show the defaults our services run with.

Every host-recovery service applies :func:`notifications.messaging.set_messaging_defaults` to
its own ConfigOpts; oslo-config-generator lists oslo.messaging's options without it and would
print oslo's defaults (prefetch 0, non-durable queues), which no service of ours uses.
oslo-config-generator calls :func:`update_defaults` (entry point named after our namespace)
before it lists the options, so the generated samples tell the truth.
"""

from __future__ import annotations

from oslo_config import cfg

from notifications import messaging


def update_defaults() -> None:
    """Set oslo.messaging's rabbit defaults to ours on its option objects (generator only).

    oslo.messaging's ``list_opts`` returns deep copies of its module-level options, so the
    default must be set on those originals; this runs only inside oslo-config-generator.
    """
    messaging.use_threading_backend()
    from oslo_messaging._drivers import amqp, impl_rabbit

    cfg.set_defaults(impl_rabbit.rabbit_opts, rabbit_qos_prefetch_count=messaging.PREFETCH)
    cfg.set_defaults(amqp.amqp_opts, amqp_durable_queues=True)
