"""``host-recovery-harness``: the real components on one machine, for people and scripts.

    host-recovery-harness demo            # the main job end to end (make demo)
    host-recovery-harness up              # start everything, print the URLs, wait for Ctrl-C
    host-recovery-harness up --detach     # the same, left running; then:
    host-recovery-harness down            # stop what `up --detach` started
    host-recovery-harness up --topology prod   # PostgreSQL, RabbitMQ cluster, Mistral processes
"""

from __future__ import annotations

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness import demo, detached, options, topology


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="host-recovery-harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="fail a host and watch it recover")
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(func=demo.run)
    up = commands.add_parser("up", help="start every component and wait")
    options.add_arguments(up)
    up.add_argument("--detach", action="store_true",
                    help="return once ready, leaving everything running")
    up.add_argument("--topology", choices=("embedded", "prod"), default="embedded",
                    help="prod: PostgreSQL, a 3-node RabbitMQ cluster with quorum queues, "
                    "Mistral as 6 processes, 3 listeners (harness.topology; no --detach)")
    up.set_defaults(func=_up)
    down = commands.add_parser("down", help="stop what `up --detach` started")
    down.set_defaults(func=detached.down)
    return parser


def _up(args: argparse.Namespace) -> int:
    if args.topology != "prod":
        return detached.up(args)
    if args.detach:
        raise SystemExit("up --topology prod runs in the foreground (no --detach)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="host-recovery-prod-"))
    return topology.serve(options.stack_options(args), workdir)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
