"""[giveback]: the listener clears our force-down of hosts that came back (issue 11)."""

from oslo_config import cfg

from notifications.conf import register_group_opts

giveback_group = cfg.OptGroup(
    "giveback",
    title="Automatic give-back",
    help="Periodically run the action pack's host_recovery.give_back for hosts whose latest "
    "incident ended with host-recovery's force-down, once per host and incident.",
)

giveback_opts = [
    cfg.BoolOpt(
        "enabled",
        default=True,
        help="Give hosts back automatically. When off, operators run "
        "'host-recovery unfence HOST'.",
    ),
    cfg.FloatOpt(
        "interval",
        default=60.0,
        min=1.0,
        help="Seconds between two rounds. Each round reads the incidents and the stored "
        "give-back runs from Mistral once.",
    ),
    cfg.IntOpt(
        "max_per_round",
        default=5,
        min=1,
        help="At most this many hosts are tried per round (each try is one ad-hoc action "
        "in Mistral that reads Nova): bounds the load after a mass failure.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [giveback] options on ``conf``."""
    register_group_opts(conf, giveback_group, giveback_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(giveback_group, giveback_opts)]
