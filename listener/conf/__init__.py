"""The listener's options: one module per group, gathered here for oslo-config-generator."""

from oslo_config import cfg


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every listener option group on ``conf``."""
    for group, opts in list_opts():
        conf.register_opts(opts, group=group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return []
