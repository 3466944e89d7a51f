"""``host-recovery rerun <incident>``: start the next attempt of a failed or ended incident.

Attempt N+1 runs as execution ``uuid5(<incident>, "attempt-<N+1>")`` with the original
input and ``attempt: N+1`` (design.md §2); listeners never re-run on their own.
"""

from __future__ import annotations

import argparse
from typing import Any

from oslo_config import cfg

from listener import attempts
from listener.mistral_api import MistralAPI
from notifications.contract import RECOVER_HOST, MistralError, MistralNotFound

IN_PROGRESS = ("IDLE", "RUNNING", "PAUSED")
RERUNNABLE_OUTCOMES = ("discarded", "skipped")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("rerun", help="start the next attempt of a failed, "
                                   "discarded or skipped incident")
    parser.add_argument("incident", help="incident id")
    parser.add_argument("--force", action="store_true",
                        help="also re-run an incident whose last attempt succeeded")
    parser.set_defaults(func=run)


def latest_attempt(api: MistralAPI, incident: str) -> tuple[int, dict[str, Any]]:
    """(attempt number, execution) of the incident's last attempt; MistralNotFound if none."""
    attempt, execution = 1, api.get_execution(attempts.execution_id(incident, 1))
    while True:
        try:
            execution = api.get_execution(attempts.execution_id(incident, attempt + 1))
        except MistralNotFound:
            return attempt, execution
        attempt += 1


def _outcome(execution: dict[str, Any]) -> str | None:
    output = execution.get("output")
    if isinstance(output, dict):
        value = output.get("outcome") or output.get("result")
        return str(value) if value is not None else None
    return None


def rerun(api: MistralAPI, incident: str, force: bool = False) -> tuple[int, str]:
    """Start attempt N+1; (exit status, message)."""
    try:
        attempt, execution = latest_attempt(api, incident)
    except MistralNotFound:
        return 1, f"unknown incident {incident} (no execution {incident})"
    state = execution.get("state")
    if state in IN_PROGRESS:
        return 1, (f"incident {incident} attempt {attempt} (execution {execution['id']}) is "
                   f"{state}: decide or wait for it first")
    if state == "SUCCESS" and _outcome(execution) not in RERUNNABLE_OUTCOMES and not force:
        return 1, (f"incident {incident} attempt {attempt} (execution {execution['id']}) "
                   "succeeded; use --force to run it again")
    new_input = dict(execution.get("input") or {})
    new_input["attempt"] = attempt + 1
    new_id = attempts.execution_id(incident, attempt + 1)
    started = api.start_execution(new_id, RECOVER_HOST, new_input)
    return 0, (f"incident {incident}: attempt {attempt + 1} started as execution "
               f"{started.get('id')} ({started.get('state')})")


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    try:
        status, message = rerun(MistralAPI.from_conf(conf), args.incident, args.force)
    except (MistralError, ValueError) as exc:
        print(f"rerun failed: {exc}")
        return 1
    print(message)
    return status
