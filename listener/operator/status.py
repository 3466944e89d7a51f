"""``host-recovery status [--host H] [--incident I] [--json] [--watch]``: incidents and VMs.

The incidents come from listener/status.py (read from Mistral)::

    host-recovery status --host compute-3 --watch
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from listener.mistral_api import MistralAPI
from listener.status import Incident, MistralReads, collect, render_table
from notifications.contract import MistralError

__all__ = ["register", "run", "watch"]


def watch(api: MistralReads, host: str | None, incident: str | None, out: TextIO,
          interval: float = 1.0, timeout: float | None = None) -> list[Incident]:
    """Redraw until nothing matching runs (or ``timeout``); returns the last view."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        incidents = collect(api, host, incident)
        if out.isatty():
            out.write("\x1b[H\x1b[J")  # redraw in place on a terminal, append otherwise
        out.write(render_table(incidents, bars=True) + "\n")
        out.flush()
        if not any(i.state == "running" for i in incidents):
            return incidents
        if deadline is not None and time.monotonic() > deadline:
            return incidents
        time.sleep(interval)  # polling Mistral is the only way to observe executions


def register(subparsers: Any) -> None:
    """Add ``status`` to the operator CLI (listener/cmd/operator.py COMMANDS)."""
    parser = subparsers.add_parser("status", help="incidents and their VMs")
    parser.add_argument("--host", help="only incidents of this compute host")
    parser.add_argument("--incident", help="only this incident id")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--watch", action="store_true",
                        help="live progress until no matching recovery runs")
    parser.add_argument("--interval", type=float, default=1.0, help="--watch refresh (s)")
    parser.set_defaults(func=run)


def run(conf: Any, args: argparse.Namespace, api: MistralReads | None = None,
        out: TextIO = sys.stdout) -> int:
    """The subcommand: 0 on success, 1 if Mistral cannot be read."""
    try:
        reader = api or MistralAPI.from_conf(conf)
        if args.watch and not args.json:
            watch(reader, args.host, args.incident, out, args.interval)
            return 0
        incidents = collect(reader, args.host, args.incident)
    except MistralError as exc:
        print(f"failed: {exc}", file=out)
        return 1
    if args.json:
        out.write(json.dumps([i.as_dict() for i in incidents], indent=2, sort_keys=True) + "\n")
    else:
        out.write(render_table(incidents) + "\n")
    return 0
