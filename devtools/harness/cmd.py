"""``host-recovery-harness``: the real components on one machine, for people and scripts.

    host-recovery-harness demo            # the main job end to end (make demo)
    host-recovery-harness up              # start everything, print the URLs, wait for Ctrl-C
"""

from __future__ import annotations

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import argparse
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from harness import demo
from harness.stack import Stack, StackOptions


def _up(args: argparse.Namespace) -> int:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="host-recovery-"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Stack(workdir, StackOptions(hosts=args.hosts, vms_per_host=args.vms_per_host,
                                     listeners=args.listeners)) as stack:
        assert stack.mistral is not None and stack.simulator is not None
        print(f"workdir    {workdir}\nbroker     {stack.cloud_url}\n"
              f"mistral    {stack.mistral.api_url}\nkeystone   {stack.simulator.auth_url}\n"
              f"nova       {stack.simulator.compute_url}\n"
              f"control    {stack.simulator.control_url}\n"
              f"agent conf {stack.agent_config}\nCtrl-C stops everything.", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="host-recovery-harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="fail a host and watch it recover")
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(func=demo.run)
    up = commands.add_parser("up", help="start every component and wait")
    up.add_argument("--hosts", type=int, default=4)
    up.add_argument("--vms-per-host", type=int, default=10)
    up.add_argument("--listeners", type=int, default=2)
    up.add_argument("--workdir", type=Path)
    up.set_defaults(func=_up)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
