"""``host-recovery approve|discard <incident|host>``: decide held incidents.

A held incident's workflow waits in the async action ``host_recovery.await_approval``
(input: incident_id, host); deciding completes that action from any controller.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import socket
from typing import Any

from oslo_config import cfg

from listener.mistral_api import MistralAPI
from notifications.contract import AWAIT_APPROVAL as AWAIT_ACTION
from notifications.contract import ActionAlreadyCompleted, MistralError
from notifications.fencing_evidence import make_evidence


def register(subparsers: Any) -> None:
    for name, approved, text in (("approve", True, "let held recoveries evacuate"),
                                 ("discard", False, "end held recoveries without evacuating")):
        parser = subparsers.add_parser(name, help=text)
        parser.add_argument("target", help="incident id or compute host name")
        parser.add_argument("--by", default=f"{getpass.getuser()}@{socket.gethostname()}",
                            help="who decided (recorded in the workflow; default "
                            "user@host)")
        if approved:
            parser.add_argument(
                "--fenced", action="store_true",
                help="you checked that the host is powered off or isolated: recorded as "
                "operator fencing evidence (who, when). Needed when the incident's own "
                "evidence is stale (the host came back while held); without it the fence "
                "step re-checks the evidence and ends a stale incident without evacuating")
        parser.set_defaults(func=run, approved=approved, fenced=False)


def held(api: MistralAPI) -> list[dict[str, Any]]:
    """The RUNNING await_approval action executions (one per held incident)."""
    return api.list_action_executions(AWAIT_ACTION, state="RUNNING")


def matching(actions: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    """Held actions whose incident id or host is ``target``."""
    found = []
    for action in actions:
        action_input = action.get("input") or {}
        if not isinstance(action_input, dict):
            continue
        if target in (action_input.get("incident_id"), action_input.get("host")):
            found.append(action)
    return found


def operator_evidence(host: str, by: str) -> dict[str, Any]:
    """The shared fencing-evidence record of an ``approve --fenced`` (docs/design.md)."""
    return dict(make_evidence("operator", host, dt.datetime.now(dt.UTC), by=by))


def decide(api: MistralAPI, target: str, approved: bool, by: str,
           fenced: bool = False) -> tuple[int, list[str]]:
    """Complete the held actions for ``target``; (exit status, lines to print)."""
    verb = "approved" if approved else "discarded"
    found = matching(held(api), target)
    if not found:
        return 1, [f"no held incident matches {target}"]
    lines, status = [], 0
    for action in found:
        action_input = action.get("input") or {}
        what = (f"incident {action_input.get('incident_id')} host {action_input.get('host')} "
                f"(action execution {action.get('id')})")
        output: dict[str, Any] = {"approved": approved, "by": by}
        if approved and fenced:
            output["fencing_evidence"] = operator_evidence(str(action_input.get("host")), by)
        try:
            api.complete_action(str(action["id"]), output)
        except ActionAlreadyCompleted:
            lines.append(f"{what}: already decided by someone else")
            status = 1
        else:
            lines.append(f"{what}: {verb} by {by}"
                         + (" (fenced: operator evidence recorded)" if "fencing_evidence"
                            in output else ""))
    return status, lines


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    try:
        status, lines = decide(MistralAPI.from_conf(conf), args.target, args.approved, args.by,
                               fenced=args.fenced)
    except MistralError as exc:
        print(f"failed: {exc}")
        return 1
    for line in lines:
        print(line)
    return status
