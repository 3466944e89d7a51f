"""``host-recovery unfence HOST``: give a recovered host back (clear our force-down).

Runs the action pack's ``host_recovery.give_back`` ad hoc in Mistral (Nova credentials live
only on Mistral's side). It refuses while a recovery of the host runs, when the force-down is
not ours, and until the host's nova-compute has restarted and cleaned up its evacuated guests.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

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


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    try:
        result = MistralAPI.from_conf(conf).run_action(GIVE_BACK_ACTION, {"host": args.host})
    except MistralError as exc:
        print(f"failed: {exc}")
        return 1
    result = result if isinstance(result, dict) else {}
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        verb = "given back" if result.get("cleared") else "not given back"
        print(f"{args.host}: {verb}: {result.get('reason')}")
    return 0 if result.get("cleared") else 1
