"""host-recovery-notify: publish a host-down and exit 0 only when the broker confirmed it.

    host-recovery-notify --host H [--on-shared-storage] [--fencing-confirmed]
                         [--incident-id X] [--config-file F]
    host-recovery-notify scan [--config-file F]          # OCF agent's monitor
    host-recovery-notify alert --node N [--config-file F]  # Pacemaker alert agent
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from oslo_config import cfg

from agents import cluster, scan, service
from notifications.host_down import format_time, incident_id_for

DEFAULT_CONFIG = "/etc/host-recovery/host-recovery.conf"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="host-recovery-notify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-file", action="append", default=[],
                        help=f"oslo.config file (repeatable; default {DEFAULT_CONFIG})")
    parser.add_argument("command", nargs="?", choices=["notify", "scan", "alert"],
                        default="notify")
    parser.add_argument("--host", help="Nova compute host that is down (notify)")
    parser.add_argument("--node", help="cluster node that was fenced (alert)")
    parser.add_argument("--on-shared-storage", action=argparse.BooleanOptionalAction,
                        default=None, help="default: [agent] on_shared_storage")
    parser.add_argument("--fencing-confirmed", action="store_true",
                        help="the host is known to be powered off")
    parser.add_argument("--incident-id", help="default: derived from host and failure time")
    return parser


def _notify(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    now = dt.datetime.now(dt.UTC)
    incident = args.incident_id or incident_id_for(args.host, f"manual@{format_time(now)}")
    service.send_host_down(conf, args.host, incident_id=incident,
                           failure_time=now, fencing_confirmed=args.fencing_confirmed,
                           source="cli", on_shared_storage=args.on_shared_storage)
    print(f"host-down for {args.host} confirmed (incident {incident})")
    return 0


def _alert(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    # The fencing history is the same on every controller: so is the incident id.
    fenced = cluster.fencings(args.node).get(args.node)
    if fenced is None:
        print(f"no successful fencing of {args.node} in the fencing history",
              file=sys.stderr)
        return 1
    host = service.nova_host(conf, args.node)
    incident = incident_id_for(host, f"fenced@{int(fenced.timestamp())}")
    service.send_host_down(conf, host, incident_id=incident,
                           failure_time=fenced, fencing_confirmed=True, source="alert")
    print(f"host-down for {host} confirmed (incident {incident})")
    return 0


def _scan(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    result = scan.scan(conf, service.send_host_down)
    print(f"sent {len(result.sent)}, pending {len(result.failed)}")
    return 1 if result.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 only when every host-down was confirmed by the broker."""
    args = _parser().parse_args(argv)
    if args.command == "notify" and not args.host:
        _parser().error("--host is required")
    if args.command == "alert" and not args.node:
        _parser().error("--node is required")
    config_args = [a for f in args.config_file for a in ("--config-file", f)]
    try:
        defaults = [DEFAULT_CONFIG] if Path(DEFAULT_CONFIG).exists() else []
        conf = service.prepare(config_args, defaults)
        handler = {"notify": _notify, "scan": _scan, "alert": _alert}[args.command]
        return handler(conf, args)
    except Exception as exc:  # one clear line for operators and agents' logs
        print(f"host-recovery-notify: {args.command} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
