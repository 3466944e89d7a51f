"""[listener]: how the daemon consumes host-downs, retries and dead-letters."""

import socket

from oslo_config import cfg

from notifications.conf import register_group_opts

listener_group = cfg.OptGroup(
    "listener",
    title="Host-down listener",
    help="The daemon that turns host-down notifications into Mistral executions.",
)

listener_opts = [
    cfg.StrOpt(
        "name",
        default=socket.gethostname(),
        sample_default="<hostname>",
        help="Name of this listener in log lines and dead-letter records.",
    ),
    cfg.IntOpt(
        "retry_window",
        default=120,
        min=1,
        help="Seconds a transient failure (Mistral or the broker unreachable) is retried "
        "inside the handler, with exponential backoff, before the message is requeued. "
        "A message is therefore redelivered at most once per window: never a hot loop.",
    ),
    cfg.FloatOpt(
        "retry_initial_delay",
        default=0.5,
        min=0.01,
        help="First backoff step in seconds; each next step doubles it.",
    ),
    cfg.FloatOpt(
        "retry_max_delay",
        default=30.0,
        min=0.1,
        help="Largest backoff step in seconds.",
    ),
    cfg.StrOpt(
        "dead_letter_queue",
        default="host_recovery.dead_letter",
        help="Queue (and routing key in the [host_down] exchange) that receives host-downs "
        "which can never start a recovery (malformed, unsupported_version, unsigned, "
        "forged, unknown_key, clock, stale, internal), with the reason and the original "
        "message.",
    ),
    cfg.FloatOpt(
        "redelivery_delay",
        default=2.0,
        min=0,
        max=30,
        help="Seconds a handler waits before it republishes a message for another try "
        "(an unexpected error, or a signature or clock check that failed here). The "
        "republished copy carries an attempt counter, so the number of tries is bounded.",
    ),
    cfg.IntOpt(
        "internal_attempts",
        default=3,
        min=1,
        help="Deliveries of a message whose handling raised an unexpected error (a bug, a "
        "proxy answering 200 with non-JSON...) before it is dead-lettered with reason "
        "'internal'. Never an immediate requeue loop.",
    ),
    cfg.IntOpt(
        "verify_attempts",
        default=3,
        min=1,
        help="Deliveries of a host-down that fails the signature or clock checks (reasons "
        "unsigned, forged, unknown_key, clock) before it is dead-lettered, so that a "
        "correctly configured peer listener can take it. A late one (older than [host_down] "
        "replay_window) is not retried: it starts, or is dead-lettered stale.",
    ),
    cfg.FloatOpt(
        "graceful_shutdown_timeout",
        default=60.0,
        min=0,
        help="Seconds SIGTERM waits for in-flight host-downs to finish; unfinished ones "
        "stay unacknowledged and go to another listener.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [listener] options on ``conf``."""
    register_group_opts(conf, listener_group, listener_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(listener_group, listener_opts)]
