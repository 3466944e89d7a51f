"""Options of the host-down producers (agents/): broker publishing and node mapping."""

from oslo_config import cfg


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the agents' option groups on ``conf``."""
    for group, opts in list_opts():
        conf.register_opts(opts, group=group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return []
