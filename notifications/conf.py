"""Options of the host-down contract, shared by producers (agents) and the listener."""

from collections.abc import Sequence

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
        help="Legacy HMAC-SHA256 key (id 'default'): producers without signing_key_id sign "
        "with it, listeners verify payloads without key_id with it.",
    ),
    cfg.ListOpt(
        "signing_keys",
        default=[],
        secret=True,
        help="Keys by id, 'id:secret,id:secret': listeners accept a payload signed with any "
        "of them (its key_id names which), so keys can be rotated (docs/operations.md). The "
        "legacy signing_key verifies payloads without key_id under the id 'default'.",
    ),
    cfg.StrOpt(
        "signing_key_file",
        help="File of further keys, one 'id:secret' a line ('#' comments), read at each "
        "use; keep it readable by the service user only.",
    ),
    cfg.StrOpt(
        "signing_key_id",
        help="Producers: sign with this key of signing_keys/signing_key_file and write its "
        "id into the payload; unset: sign with signing_key and no key_id.",
    ),
    cfg.BoolOpt(
        "allow_unsigned",
        default=False,
        help="Trusted brokers only: listeners accept host-downs without a signature and "
        "start without a key; producers without a key publish unsigned. False: both refuse.",
    ),
    cfg.IntOpt(
        "replay_window",
        default=900,
        min=1,
        help="Seconds after its sent_at a signed host-down is on time. An older one (the "
        "listeners or Mistral were down) is late: it still starts its execution, logged "
        "as late (the execution id is the incident id, so a replay never starts a second "
        "recovery) and the fence step's evidence check decides.",
    ),
    cfg.IntOpt(
        "stale_after",
        default=3600,
        min=1,
        help="Seconds after which the proof of death of a late host-down (its fencing "
        "evidence's completed_at, else its failure_time) is too old to act on without an "
        "operator: it is dead-lettered as stale (kept, health warns). The host may have "
        "come back since, and Mistral's execution expiration may have removed the "
        "execution that made a replay harmless.",
    ),
    cfg.IntOpt(
        "clock_skew",
        default=60,
        min=0,
        help="Seconds a sent_at may lie in the future (clock differences between nodes).",
    ),
]


def register_group_opts(conf: cfg.ConfigOpts, group: cfg.OptGroup,
                        opts: Sequence[cfg.Opt]) -> None:
    """Register ``opts`` under a copy of ``group`` that belongs to ``conf`` alone.

    oslo.config's register_group keeps a shallow copy of the group, whose dict of options
    (and their overrides) stays shared with the module-level OptGroup: a set_override on one
    ConfigOpts would then show in every other one that registers the same group.
    """
    conf.register_group(cfg.OptGroup(group.name, title=group.title, help=group.help))
    conf.register_opts(list(opts), group=group.name)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [host_down] options on ``conf``."""
    register_group_opts(conf, host_down_group, host_down_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(host_down_group, host_down_opts)]
