"""``host-recovery health``: broker, Mistral, workflow and action pack, for monitoring.

One line per check; exit status as monitoring plugins use it: 0 OK, 2 CRITICAL.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kombu.connection import Connection
from oslo_config import cfg

from listener import workflow_check
from listener.mistral_api import MistralAPI
from notifications.publisher import parse_transport_url

OK, CRITICAL = 0, 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("health", help="check broker, Mistral and workflow "
                                   "(exit 0 OK, 2 CRITICAL)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds per check (default 10)")
    parser.set_defaults(func=run)


def check_broker(conf: cfg.ConfigOpts, timeout: float) -> str:
    urls = parse_transport_url(conf.transport_url)
    with Connection(urls, connect_timeout=timeout,
                          failover_strategy="round-robin") as conn:
        conn.ensure_connection(max_retries=len(urls))
    return f"{len(urls)} URL(s), connected"


def check_mistral(api: MistralAPI) -> str:
    api.list_executions(fields=["id"], limit=1)
    return "API answers"


def check_workflow(conf: cfg.ConfigOpts, api: MistralAPI) -> str:
    problems = workflow_check.check(api, workflow_check.expected_definition(conf))
    if problems:
        raise workflow_check.WorkflowProblem("; ".join(problems))
    return "workflow and action pack up to date"


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    conf.set_override("timeout", args.timeout, group="mistral")
    api = MistralAPI.from_conf(conf)
    checks: list[tuple[str, Callable[[], str]]] = [
        ("broker", lambda: check_broker(conf, args.timeout)),
        ("mistral", lambda: check_mistral(api)),
        ("workflow", lambda: check_workflow(conf, api)),
    ]
    status = OK
    for name, check in checks:
        try:
            detail = check()
        except Exception as exc:  # any failure of a check is CRITICAL, with its reason
            status = CRITICAL
            print(f"CRITICAL {name}: {exc}")
        else:
            print(f"OK {name}: {detail}")
    return status
