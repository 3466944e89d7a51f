"""[nova_notifications]: where Nova's notifications are consumed and waits completed."""

from __future__ import annotations

from oslo_config import cfg

from notifications import contract
from notifications.conf import register_group_opts

nova_group = cfg.OptGroup(
    "nova_notifications",
    title="Confirmation from Nova's notifications",
    help="Where Nova's versioned notifications are consumed and how waiting evacuation "
    "actions are matched and completed.",
)

nova_opts = [
    cfg.BoolOpt("enabled", default=True,
                help="Consume Nova's notifications to confirm evacuations (the workflow's "
                "polling fallback still ends every wait if this is off)."),
    cfg.StrOpt("exchange", default="nova", help="Exchange Nova publishes notifications to."),
    cfg.StrOpt("topic", default="versioned_notifications",
               help="Nova's versioned notification topic ([notifications] "
               "versioned_notifications_topics in nova.conf)."),
    cfg.StrOpt("pool", default="host-recovery-nova",
               help="Our pool queue: every listener of the pool competes for it, so any "
               "controller confirms any wait. Bound it with a broker policy "
               "(docs/operations.md)."),
    cfg.BoolOpt("legacy", default=False,
                help="Also consume the legacy (unversioned) compute.instance.* format."),
    cfg.StrOpt("legacy_topic", default="notifications",
               help="Topic of Nova's legacy notifications (used when legacy is on)."),
    cfg.StrOpt("transport_url", secret=True,
               help="Broker Nova publishes to, if not the listener's transport_url."),
    cfg.BoolOpt("amqp_durable_queues", default=False,
                help="Durability of Nova's exchange and of our pool queue: must equal "
                "nova.conf's [oslo_messaging_rabbit] amqp_durable_queues (a mismatch fails "
                "the declaration), independently of our own host-down queues."),
    cfg.StrOpt("wait_action", default=contract.WAIT_EVACUATION,
               help="Name of the async Mistral action that waits for an evacuation."),
    cfg.StrOpt("instance_workflow", default=contract.RECOVER_INSTANCE,
               help="Workflow recovering one VM. An event for an instance that no RUNNING "
               "execution of it mentions is unrelated and dropped at once; otherwise an "
               "event that arrives before its wait exists is retried."),
    cfg.FloatOpt("pending_retry_window", default=30.0, min=0.0,
                 help="Seconds an event whose wait does not exist yet is retried (with "
                 "backoff) before it is dropped with a log line; the wait's own Nova check "
                 "and the polling fallback cover what is dropped."),
    cfg.FloatOpt("cache_ttl", default=0.5, min=0.0, max=1.0,
                 help="Seconds the list of RUNNING waits is cached (at most 1 s)."),
    cfg.FloatOpt("mistral_retry_window", default=60.0, min=0.0,
                 help="Seconds a Mistral outage is retried inside the handler before the "
                 "event is requeued."),
    cfg.FloatOpt("http_timeout", default=10.0, min=0.1,
                 help="Timeout of each Mistral REST call."),
]

def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [nova_notifications] options on ``conf``."""
    register_group_opts(conf, nova_group, nova_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(nova_group, list(nova_opts))]
