"""``host-recovery status [--host H] [--incident I] [--json] [--watch]``: incidents and VMs.

The incidents come from listener/status.py (read from Mistral)::

    host-recovery status --host compute-3 --watch
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live

from listener.mistral_api import MistralAPI
from listener.operator import live as live_view
from listener.status import RECOVER_HOST, Incident, MistralReads, collect, render_table
from notifications.contract import MistralError

__all__ = ["register", "run", "watch"]


def _failure_times(api: MistralReads) -> dict[str, str | None]:
    """Execution id -> the host-down's failure_time (for the time to detection)."""
    return {str(ex.get("id")): (ex.get("input") or {}).get("failure_time")
            for ex in api.list_executions(workflow_name=RECOVER_HOST, include_output="true")
            if isinstance(ex.get("input"), dict)}


def watch(api: MistralReads, host: str | None, incident: str | None, out: TextIO,
          interval: float = 1.0, timeout: float | None = None,
          as_json: bool = False) -> list[Incident]:
    """Follow until nothing matching runs (or ``timeout``); returns the last view.

    On a terminal: one screen redrawn in place (rich); otherwise one line per change (a JSON
    object per line with ``as_json``). Ends with the timings and the per-VM table.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    previous: dict[str, Incident] = {}
    first_seen: dict[str, float] = {}
    recent: list[str] = []
    tty = out.isatty() and not as_json
    console = Console(file=out, force_terminal=tty or None, width=None if tty else 120)
    with Live(console=console, auto_refresh=False, transient=False) if tty else \
            contextlib.nullcontext() as live:
        while True:
            incidents = collect(api, host, incident)
            now = time.time()
            for inc in incidents:  # seen going from none to one evacuated (interval-precise)
                seen = previous.get(inc.execution_id)
                if seen is not None and not seen.counts["evacuated"] and \
                        inc.counts["evacuated"]:
                    first_seen.setdefault(inc.execution_id, now)
            lines = live_view.changes(previous, incidents, now)
            previous = {i.execution_id: i for i in incidents}
            recent = (recent + lines)[-50:]
            if live is not None:
                live.update(live_view.dashboard(incidents, recent), refresh=True)
            elif as_json:
                for inc in incidents:
                    if any(inc.incident_id in line for line in lines):
                        out.write(json.dumps(inc.as_dict(), sort_keys=True) + "\n")
            else:
                out.writelines(line + "\n" for line in lines)
            out.flush()
            if not any(i.state in ("running", "held") for i in incidents) or (
                    deadline is not None and time.monotonic() > deadline):
                break
            time.sleep(interval)  # polling Mistral is the only way to observe executions
    rows = live_view.summary(incidents, first_seen, _failure_times(api))
    if as_json:
        out.write(json.dumps({"summary": rows}, sort_keys=True) + "\n")
        return incidents
    for inc in incidents:
        if inc.vms:
            console.print(live_view.vm_table(inc.vms, title=f"incident {inc.incident_id}"))
    out.write(live_view.render_summary(rows) + "\n")
    return incidents


def register(subparsers: Any) -> None:
    """Add ``status`` to the operator CLI (listener/cmd/operator.py COMMANDS)."""
    parser = subparsers.add_parser("status", help="incidents and their VMs")
    parser.add_argument("--host", help="only incidents of this compute host")
    parser.add_argument("--incident", help="only this incident id")
    parser.add_argument("--json", action="store_true", help="machine-readable output (with "
                        "--watch: one JSON object per changed incident, then the summary)")
    parser.add_argument("--watch", action="store_true",
                        help="live progress until no matching recovery runs: redrawn in "
                        "place on a terminal, one line per change otherwise; ends with "
                        "the timings and the per-VM table")
    parser.add_argument("--interval", type=float, default=1.0, help="--watch refresh (s)")
    parser.set_defaults(func=run)


def run(conf: Any, args: argparse.Namespace, api: MistralReads | None = None,
        out: TextIO = sys.stdout) -> int:
    """The subcommand: 0 on success, 1 if Mistral cannot be read."""
    try:
        reader = api or MistralAPI.from_conf(conf)
        if args.watch:
            watch(reader, args.host, args.incident, out, args.interval, as_json=args.json)
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
