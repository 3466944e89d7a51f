"""``host-recovery``: the operator's command line (workflow sync, health, approve...)."""

from __future__ import annotations

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import argparse
import sys
from collections.abc import Sequence

from listener import service
from listener.operator import (
    capacity,
    decisions,
    health,
    plan,
    rerun,
    setup_broker,
    status,
    unfence,
    workflow,
)

#: Each module adds its subcommands (``register(subparsers)``).
COMMANDS = (workflow, health, decisions, rerun, status, unfence, setup_broker, plan, capacity)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="host-recovery", description=__doc__)
    parser.add_argument("--config-file", action="append", default=[],
                        help="configuration file (repeatable; default: "
                        "/etc/host-recovery/host-recovery.conf)")
    parser.add_argument("--config-dir", help="directory of *.conf files")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    oslo_argv = [arg for path in args.config_file for arg in ("--config-file", path)]
    if args.config_dir:
        oslo_argv += ["--config-dir", args.config_dir]
    conf = service.prepare_service(oslo_argv, setup_logging=False)
    code: int = args.func(conf, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
