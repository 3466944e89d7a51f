"""[wait_sweep]: the listener closes waits whose workflow execution has ended (issue 12)."""

from oslo_config import cfg

from notifications import contract
from notifications.conf import register_group_opts

wait_sweep_group = cfg.OptGroup(
    "wait_sweep",
    title="Closing stale waits",
    help="A wait action (an async action the listener completes on Nova's event) whose task "
    "timed out or whose workflow execution ended stays RUNNING in Mistral for ever (Mistral "
    "deletes only ad-hoc action executions). The listener closes such waits (state ERROR) "
    "so the lookups of RUNNING waits stay small.",
)

wait_sweep_opts = [
    cfg.BoolOpt("enabled", default=True, help="Close stale waits periodically."),
    cfg.FloatOpt(
        "interval",
        default=300.0,
        min=1.0,
        help="Seconds between two rounds. A round lists the RUNNING waits (paginated) and "
        "reads the task and workflow execution of each one old enough.",
    ),
    cfg.FloatOpt(
        "min_age",
        default=600.0,
        min=0.0,
        help="Seconds a wait must have been RUNNING before it is checked: a young wait "
        "belongs to a live recovery, and checking it would only cost requests.",
    ),
    cfg.IntOpt(
        "max_per_round",
        default=500,
        min=1,
        help="At most this many waits are checked per round (oldest first): bounds the "
        "requests to Mistral after a mass failure.",
    ),
    cfg.ListOpt(
        "actions",
        default=[contract.WAIT_EVACUATION, contract.AWAIT_APPROVAL],
        help="Names of the async wait actions to sweep.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [wait_sweep] options on ``conf``."""
    register_group_opts(conf, wait_sweep_group, wait_sweep_opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(wait_sweep_group, wait_sweep_opts)]
