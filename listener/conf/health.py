"""[health]: thresholds of ``host-recovery health`` and of the listener's health gauges."""

from __future__ import annotations

from oslo_config import cfg

from notifications.conf import register_group_opts

health_group = cfg.OptGroup("health", title="Health checks",
                            help="What `host-recovery health` and the listener's health "
                            "gauges treat as trouble (docs/operations.md).")

health_opts = [
    cfg.ListOpt("dead_letter_queues", default=[],
                help="Queues counted as dead letters besides [listener] dead_letter_queue, "
                "e.g. the broker's dead-letter queue of bodies our driver could not decode."),
    cfg.IntOpt("stuck_after", default=1800, min=60,
               help="Seconds without any change in a running incident (its tasks and "
               "sub-workflows) after which it is stuck, e.g. a task left IDLE by an engine "
               "crash. Keep it above the action pack's wait_timeout. Incidents held for "
               "approval or waiting for capacity are never stuck."),
    cfg.IntOpt("idle_task_after", default=120, min=10,
               help="Seconds a task of a running incident may stay IDLE (created, never "
               "started) before the incident is stuck, whatever stuck_after says: Mistral 23 "
               "loses a task's start when its engine dies or its database restarts at that "
               "moment, and nothing starts it again (docs/operations.md). Tasks normally "
               "start within seconds."),
    cfg.IntOpt("incident_age_warning", default=3600, min=1,
               help="Seconds after which the oldest unfinished incident is a WARNING."),
    cfg.ListOpt("listener_metrics_urls", default=[],
                help="Every listener's metrics URL (http://ctl-1:9787/metrics,...): health "
                "checks each one exports the signing key producers use and sums their "
                "redeliveries."),
    cfg.StrOpt("state_file",
               help="File where health keeps the last dead-letter depth and redelivery "
               "count, to report growth and rate between two runs (unset: no growth/rate)."),
    cfg.FloatOpt("redelivery_rate_warning", default=1.0, min=0,
                 help="Redeliveries per minute (all listeners) above which health warns."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [health] options on ``conf``."""
    register_group_opts(conf, health_group, health_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(health_group, list(health_opts))]
