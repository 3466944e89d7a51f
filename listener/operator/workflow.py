"""``host-recovery workflow sync|check``: put our workflow into Mistral, or compare it."""

from __future__ import annotations

import argparse
from typing import Any

from oslo_config import cfg

from listener import workflow_check
from listener.mistral_api import MistralAPI
from notifications.contract import MistralError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("workflow", help="the recovery workflow in Mistral")
    actions = parser.add_subparsers(dest="workflow_command", required=True)
    sync = actions.add_parser("sync", help="create or update the workflow (checks that our "
                              "action pack is installed in Mistral first)")
    sync.set_defaults(func=run_sync)
    check = actions.add_parser("check", help="compare Mistral's workflow with ours "
                               "(exit 1 if missing or outdated, or the host policy file "
                               "is wrong)")
    check.add_argument("--policy", metavar="FILE",
                       help="also check this host policy file (the action pack's [policy] "
                       "host_policy_file): its shape and every rule's values")
    check.set_defaults(func=run_check)


def run_sync(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    api = MistralAPI.from_conf(conf)
    try:
        changes = workflow_check.sync(api, workflow_check.expected_definition(conf))
    except (workflow_check.WorkflowProblem, MistralError) as exc:
        print(f"workflow sync failed: {exc}")
        return 1
    for name, change in changes.items():
        print(f"{name}: {change}")
    return 0


def run_check(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    # the policy file first: it can be checked with Mistral down
    policy = workflow_check.check_policy(args.policy) if args.policy else []
    for problem in policy:
        print(problem)
    api = MistralAPI.from_conf(conf)
    try:
        problems = workflow_check.check(api, workflow_check.expected_definition(conf))
    except (workflow_check.WorkflowProblem, MistralError) as exc:
        print(f"workflow check failed: {exc}")
        return 1
    for problem in problems:
        print(problem)
    if not problems:
        print("workflow and action pack up to date")
    if args.policy and not policy:
        print(f"host policy file {args.policy}: ok")
    return 1 if problems or policy else 0
