"""[capacity]: the listener's failover-capacity gauges (issue 14)."""

from oslo_config import cfg

from notifications.conf import register_group_opts

capacity_group = cfg.OptGroup(
    "capacity",
    title="Failover capacity gauges",
    help="Periodically run the action pack's host_recovery.capacity (what 'host-recovery "
    "capacity' runs) and export its report as host_recovery_failover_capacity_* gauges. "
    "Needs [metrics] enabled.",
)

capacity_opts = [
    cfg.BoolOpt(
        "enabled",
        default=True,
        help="Refresh the failover-capacity gauges. When off they are not exported.",
    ),
    cfg.FloatOpt(
        "interval",
        default=300.0,
        min=30.0,
        help="Seconds between two refreshes. Each one is a stored ad-hoc action in Mistral "
        "that reads Nova and Placement once and plans every host's loss (1,000 hosts and "
        "47,000 VMs: 6 s for an executor's first analysis, which reads every server, then "
        "1-1.5 s, reading only the servers changed since); scrapes never trigger it.",
    ),
    cfg.FloatOpt(
        "timeout",
        default=120.0,
        min=5.0,
        help="Seconds a refresh waits for the action to end. A refresh never starts while "
        "the previous action still runs; the gauges keep their last values meanwhile.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [capacity] options on ``conf``."""
    register_group_opts(conf, capacity_group, capacity_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(capacity_group, capacity_opts)]
