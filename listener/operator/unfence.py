"""``host-recovery unfence HOST``: give a recovered host back (clear our force-down).

Runs the action pack's ``host_recovery.give_back`` ad hoc in Mistral (Nova credentials live
only on Mistral's side). It refuses while a recovery of the host runs, when the force-down is
not ours, and until the host's nova-compute has restarted and cleaned up its evacuated guests.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import tenacity
from oslo_config import cfg

from listener.mistral_api import MistralAPI
from notifications.contract import GIVE_BACK as GIVE_BACK_ACTION
from notifications.contract import MistralError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "unfence", help="clear host-recovery's force-down of a host that is back")
    parser.add_argument("host", help="compute host name (as Nova names it)")
    parser.add_argument("--json", action="store_true", help="print the action's output")
    parser.set_defaults(func=run)


def give_back(api: MistralAPI, host: str, timeout: float = 120.0) -> dict[str, Any]:
    """Start the stored give-back action and wait for its end.

    Not ``run_sync``: the action reads Mistral's own API, and an API that serves the
    synchronous call with its only worker (the embedded harness) would wait on itself.
    """
    started = api.start_action(GIVE_BACK_ACTION, {"host": host})
    poll = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout), wait=tenacity.wait_fixed(0.5),
        retry=tenacity.retry_if_result(lambda got: got.get("state") == "RUNNING"),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else {})
    row: dict[str, Any] = poll(api.get_action_execution, str(started["id"]))
    if row.get("state") == "RUNNING":
        raise MistralError(f"{GIVE_BACK_ACTION} still running after {timeout:.0f} s")
    if row.get("state") != "SUCCESS":
        raise MistralError(f"{GIVE_BACK_ACTION} ended {row.get('state')}: "
                           f"{row.get('state_info')}")
    output = row.get("output") or {}
    output = json.loads(output) if isinstance(output, str) else output
    result = output.get("result") if isinstance(output, dict) else None
    return result if isinstance(result, dict) else {}


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    try:
        result = give_back(MistralAPI.from_conf(conf), args.host)
    except MistralError as exc:
        print(f"failed: {exc}")
        return 1
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        verb = "given back" if result.get("cleared") else "not given back"
        print(f"{args.host}: {verb}: {result.get('reason')}")
    return 0 if result.get("cleared") else 1
