"""[metrics]: the listener's Prometheus exporter."""

from __future__ import annotations

from oslo_config import cfg

from notifications.conf import register_group_opts

metrics_group = cfg.OptGroup("metrics", title="Prometheus metrics",
                             help="The listener's Prometheus exporter.")

metrics_opts = [
    cfg.BoolOpt("enabled", default=True, help="Serve Prometheus metrics."),
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address the exporter binds to."),
    cfg.PortOpt("port", default=9787, help="Port of the exporter (0: any free port)."),
    cfg.FloatOpt("status_interval", default=15.0, min=1.0,
                 help="Seconds between refreshes of the incident gauges from Mistral."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [metrics] options on ``conf``."""
    register_group_opts(conf, metrics_group, metrics_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(metrics_group, list(metrics_opts))]
