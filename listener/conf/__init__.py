"""The listener's options: one module per group, gathered here for oslo-config-generator."""

from oslo_config import cfg

from listener.conf import (
    capacity,
    giveback,
    health,
    listener,
    metrics,
    mistral,
    nova_notifications,
    wait_sweep,
)

_MODULES = (listener, mistral, nova_notifications, metrics, giveback, health, capacity,
            wait_sweep)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every listener option group on ``conf``."""
    for module in _MODULES:
        module.register_opts(conf)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    result: list[tuple[cfg.OptGroup, list[cfg.Opt]]] = []
    for module in _MODULES:
        result.extend(module.list_opts())
    return result
