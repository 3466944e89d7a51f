"""Options of the host-down contract, shared by producers (agents) and the listener."""

from oslo_config import cfg

host_down_group = cfg.OptGroup(
    "host_down",
    title="Host-down notifications",
    help="Where host-down notifications travel and how they are signed.",
)

host_down_opts = [
    cfg.StrOpt(
        "exchange",
        default="openstack",
        help="Exchange host-down notifications are published to (oslo's control_exchange "
        "default, so any oslo.messaging Notifier can be a producer).",
    ),
    cfg.StrOpt(
        "topic",
        default="host_recovery",
        help="Notification topic; the routing key and the listeners' queue are "
        "'<topic>.info'.",
    ),
    cfg.StrOpt(
        "event_type",
        default="host_recovery.host.down",
        help="Event type of a host-down notification.",
    ),
    cfg.StrOpt(
        "signing_key",
        secret=True,
        help="Shared HMAC-SHA256 key that signs host-down payloads. Producers sign with it "
        "and listeners verify with it.",
    ),
    cfg.BoolOpt(
        "allow_unsigned",
        default=False,
        help="Accept host-down payloads without a signature (only for trusted brokers).",
    ),
    cfg.IntOpt(
        "replay_window",
        default=900,
        min=1,
        help="Seconds a signed host-down stays valid after its sent_at; older ones are "
        "dead-lettered as replayed.",
    ),
    cfg.IntOpt(
        "clock_skew",
        default=60,
        min=0,
        help="Seconds a sent_at may lie in the future (clock differences between nodes).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [host_down] options on ``conf``."""
    conf.register_group(host_down_group)
    conf.register_opts(host_down_opts, group=host_down_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(host_down_group, host_down_opts)]
