"""host-recovery-notify: publish a host-down and exit 0 only when the broker confirmed it.

    host-recovery-notify --host H [--on-shared-storage] [--incident-id X] [--config-file F]
                         [--fenced-by WHO [--fenced-at TIME] [--fence-action off|reboot]]
    host-recovery-notify scan [--error-file F] [--config-file F]  # OCF agent's monitor
    host-recovery-notify alert --node N [--config-file F]        # Pacemaker alert agent

Exit codes: 0 every host-down confirmed; 1 not confirmed (kept pending) or a transient
Pacemaker read error, or no signing key while [host_down] allow_unsigned is false (nothing
is published, nothing marked sent); 2 (scan) [agent] scan_error_threshold read errors in a row.
"""

from __future__ import annotations

import notifications.quiet  # noqa: F401  # isort: skip  (first: see notifications/quiet.py)
import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from oslo_config import cfg

from agents import scan, service
from agents.cluster import ClusterError
from agents.errors import ErrorCounter
from notifications import signing
from notifications.host_down import FencingEvidence, format_time, incident_id_for, make_evidence

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
    parser.add_argument("--fenced-by", metavar="WHO",
                        help="evidence: who proved the host dead (an operator; with "
                        "--fence-action, the node that fenced it)")
    parser.add_argument("--fenced-at", metavar="TIME", type=_utc,
                        help="evidence: when, ISO 8601 with offset (default: now)")
    parser.add_argument("--fence-action", choices=["off", "reboot"],
                        help="evidence: a fencing device did this (kind pacemaker_fencing)")
    parser.add_argument("--fencing-confirmed", action="store_true",
                        help="deprecated: a claim without evidence, which the fence step "
                        "does not accept as proof; use --fenced-by")
    parser.add_argument("--incident-id", help="default: derived from host and failure time")
    parser.add_argument("--error-file", type=Path,
                        help="scan: file counting consecutive Pacemaker read errors")
    return parser


def _utc(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset (Z or +00:00)")
    return when


def _evidence(args: argparse.Namespace, now: dt.datetime) -> FencingEvidence | None:
    """The evidence the operator gave explicitly; None without --fenced-by/--fence-action."""
    if args.fence_action:
        return make_evidence("pacemaker_fencing", args.host, args.fenced_at or now,
                             action=args.fence_action, executioner=args.fenced_by)
    if args.fenced_by:
        return make_evidence("operator", args.host, args.fenced_at or now, by=args.fenced_by)
    if args.fenced_at:
        raise ValueError("--fenced-at needs --fenced-by or --fence-action")
    return None


def _notify(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    now = dt.datetime.now(dt.UTC)
    incident = args.incident_id or incident_id_for(args.host, f"manual@{format_time(now)}")
    evidence = _evidence(args, now)
    if args.fencing_confirmed and evidence is None:
        print("host-recovery-notify: --fencing-confirmed carries no fencing evidence; the "
              "fence step will not take it as proof (use --fenced-by)", file=sys.stderr)
    # The failure began no later than the fencing that proved it.
    failure_time = min(now, args.fenced_at) if args.fenced_at else now
    service.send_host_down(conf, args.host, incident_id=incident, failure_time=failure_time,
                           fencing_confirmed=args.fencing_confirmed or evidence is not None,
                           fencing_evidence=evidence, source="cli",
                           on_shared_storage=args.on_shared_storage)
    print(f"host-down for {args.host} confirmed (incident {incident})")
    return 0


def _alert(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    # The fencing history is the same on every controller; the CIB record decides the id.
    incident = scan.alert(conf, service.send_host_down, args.node)
    if incident is None:
        print(f"no off/reboot fencing of {args.node} in the fencing history",
              file=sys.stderr)
        return 1
    print(f"host-down for {service.nova_host(conf, args.node)} confirmed "
          f"(incident {incident})")
    return 0


def _scan(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    counter = ErrorCounter(args.error_file) if args.error_file else None
    try:
        result = scan.scan(conf, service.send_host_down)
    except ClusterError as exc:
        errors = counter.failed() if counter else conf.agent.scan_error_threshold
        threshold = conf.agent.scan_error_threshold
        print(f"cannot read Pacemaker ({errors} of {threshold} errors in a row): {exc}",
              file=sys.stderr)
        return 2 if errors >= threshold else 1
    if counter:
        counter.succeeded()
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
        signing.keyring_from_conf(conf)  # no key: refuse before reading Pacemaker
        handler = {"notify": _notify, "scan": _scan, "alert": _alert}[args.command]
        return handler(conf, args)
    except Exception as exc:  # one clear line for operators and agents' logs
        print(f"host-recovery-notify: {args.command} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
