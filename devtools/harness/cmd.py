"""``host-recovery-harness``: the real components on one machine, for people and scripts.

    host-recovery-harness demo            # the main job end to end (make demo)
    host-recovery-harness up              # start everything, print the URLs, wait for Ctrl-C
    host-recovery-harness up --detach     # the same, left running; then:
    host-recovery-harness down            # stop what `up --detach` started
"""

from __future__ import annotations

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import argparse
import sys
from collections.abc import Sequence

from harness import demo, detached, options


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
    up.set_defaults(func=detached.up)
    down = commands.add_parser("down", help="stop what `up --detach` started")
    down.set_defaults(func=detached.down)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
