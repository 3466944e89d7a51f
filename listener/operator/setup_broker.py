"""``host-recovery setup-broker``: our broker policies, dead-letter exchange and queues.

A queue has ONE effective policy (the matching one of highest priority), so our keys are
merged into one policy per queue pattern:

- host-down queues ``<topic>.<priority>``: ``dead-letter-exchange`` (bodies oslo's driver
  cannot decode are rejected without requeue; the broker keeps them with ``x-death``), and
  ``delivery-limit`` with quorum queues;
- the Nova pool queue: the same plus ``max-length``/``overflow: drop-head``/``message-ttl``;
- the broker dead-letter queues themselves: ``max-length`` with ``drop-head`` and no
  dead-letter exchange, so they stay bounded (what ``drop-head`` drops from the pool is
  dead-lettered too: the pool has a dead-letter queue of its own, so its overflow never
  pushes out a kept host-down).

An operator policy matching our queues at a lower priority is merged (its keys kept, ours
win on the same key); one at our priority or higher is reported, never displaced.
"""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from oslo_config import cfg

from listener.broker_admin import BrokerAdmin, BrokerAdminError
from notifications.publisher import parse_transport_url

__all__ = ["Policy", "desired", "register", "resolve", "run"]

PREFIX = "host-recovery-"
DLX = "host-recovery.dlx"
#: oslo's notification priorities: one host-down queue each (our endpoints take all).
PRIORITIES = ("audit", "debug", "info", "warn", "error", "critical", "sample")
PASSWORD_ENV = "HOST_RECOVERY_BROKER_PASSWORD"  # noqa: S105  (a variable's name)


@dataclass
class Policy:
    """One policy we want, and the queues it is for (to find conflicting ones)."""

    name: str
    pattern: str
    queues: list[str]
    definition: dict[str, Any]
    priority: int
    merged: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "definition": self.definition,
                "apply-to": "queues", "priority": self.priority}


def dead_letter_queues(conf: cfg.ConfigOpts) -> dict[str, str]:
    """Broker dead-letter queue by routing key (one for host-downs, one for the pool)."""
    return {"host_down": f"{conf.host_down.topic}.broker_dead_letter",
            "nova": f"{conf.nova_notifications.pool}.broker_dead_letter"}


def desired(conf: cfg.ConfigOpts, args: argparse.Namespace) -> list[Policy]:
    """Our three policies, keys merged per pattern."""
    quorum = bool(conf.oslo_messaging_rabbit.rabbit_quorum_queue)
    limit = {"delivery-limit": args.delivery_limit} if quorum else {}
    topic, pool = conf.host_down.topic, conf.nova_notifications.pool
    dlqs = dead_letter_queues(conf)
    return [
        Policy(f"{PREFIX}host-down", rf"^{re.escape(topic)}\.({'|'.join(PRIORITIES)})$",
               [f"{topic}.{p}" for p in PRIORITIES],
               {"dead-letter-exchange": DLX, "dead-letter-routing-key": "host_down", **limit},
               args.priority),
        Policy(f"{PREFIX}nova-pool", rf"^{re.escape(pool)}$", [pool],
               {"dead-letter-exchange": DLX, "dead-letter-routing-key": "nova",
                "max-length": args.pool_max_length, "overflow": "drop-head",
                "message-ttl": args.pool_ttl * 1000, **limit}, args.priority),
        Policy(f"{PREFIX}dead-letters",
               "^(" + "|".join(re.escape(q) for q in dlqs.values()) + ")$", list(dlqs.values()),
               {"max-length": args.dead_letter_max_length, "overflow": "drop-head"},
               args.priority),
    ]


def resolve(wanted: list[Policy], existing: list[dict[str, Any]]) -> list[str]:
    """Merge lower-priority operator policies into ``wanted``; the conflicts (one line each).

    A conflicting policy's pattern is dropped from ``wanted`` (never displaced).
    """
    conflicts: list[str] = []
    others = sorted((p for p in existing if not str(p.get("name", "")).startswith(PREFIX)
                     and p.get("apply-to", "all") in ("queues", "all")),
                    key=lambda p: int(p.get("priority", 0)))
    for policy in list(wanted):
        for other in others:
            hit = [q for q in policy.queues if re.search(str(other["pattern"]), q)]
            if not hit:
                continue
            if int(other.get("priority", 0)) >= policy.priority:
                conflicts.append(
                    f"conflict: operator policy {other['name']} (pattern "
                    f"{other['pattern']!r}, priority {other.get('priority', 0)}) matches "
                    f"{', '.join(hit)} at or above our priority {policy.priority}: "
                    f"{policy.name} not applied. Add our keys {policy.definition} to it, "
                    "or lower its priority, or raise ours with --priority.")
                wanted.remove(policy)
                break
            # lower priority: ours would displace it on our queues, so keep its keys
            for key, value in dict(other.get("definition", {})).items():
                policy.definition.setdefault(key, value)
            policy.merged.append(str(other["name"]))
    return conflicts


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "setup-broker", help="apply our broker policies and dead-letter queues "
        "(one policy per queue pattern; conflicting operator policies are reported)")
    parser.add_argument("--management-url", help="RabbitMQ management API (default: "
                        "http://<first transport_url host>:15672)")
    parser.add_argument("--user", help=f"management user (default: transport_url's; the "
                        f"password is then read from ${PASSWORD_ENV})")
    parser.add_argument("--priority", type=int, default=10, help="our policies' priority")
    parser.add_argument("--pool-max-length", type=int, default=100_000,
                        help="messages kept in the Nova pool queue (about an hour of the "
                        "cloud's notifications)")
    parser.add_argument("--pool-ttl", type=int, default=3600,
                        help="seconds a pool message is kept")
    parser.add_argument("--dead-letter-max-length", type=int, default=100_000,
                        help="messages kept in each broker dead-letter queue (the pool's "
                        "receives what drop-head drops: size it like --pool-max-length)")
    parser.add_argument("--delivery-limit", type=int, default=20,
                        help="quorum queues: deliveries before the broker dead-letters")
    parser.add_argument("--dry-run", action="store_true", help="print, change nothing")
    parser.set_defaults(func=run)


def _admin(conf: cfg.ConfigOpts, args: argparse.Namespace) -> tuple[BrokerAdmin, str]:
    first = urllib.parse.urlsplit(parse_transport_url(conf.transport_url)[0])
    vhost = urllib.parse.unquote(first.path.lstrip("/")) or "/"
    url = args.management_url or f"http://{first.hostname}:15672"
    if args.user:
        return BrokerAdmin(url, args.user, os.environ.get(PASSWORD_ENV, "")), vhost
    return BrokerAdmin(url, urllib.parse.unquote(first.username or "guest"),
                       urllib.parse.unquote(first.password or "guest")), vhost


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    """Exit 0 when everything is applied, 1 on a conflict, 2 when the API fails."""
    admin, vhost = _admin(conf, args)
    wanted = desired(conf, args)
    try:
        conflicts = resolve(wanted, admin.policies(vhost))
        for line in conflicts:
            print(line)
        for policy in wanted:
            merged = f" (merged keys of {', '.join(policy.merged)})" if policy.merged else ""
            print(f"policy {policy.name} {policy.pattern!r} priority {policy.priority}: "
                  f"{policy.definition}{merged}{' [dry run]' if args.dry_run else ''}")
            if not args.dry_run:
                admin.put_policy(vhost, policy.name, policy.body())
        if not args.dry_run:
            _dead_letter_plumbing(admin, vhost, conf)
    except BrokerAdminError as exc:
        print(f"setup-broker failed: {exc}")
        return 2
    return 1 if conflicts else 0


def _dead_letter_plumbing(admin: BrokerAdmin, vhost: str, conf: cfg.ConfigOpts) -> None:
    quorum = bool(conf.oslo_messaging_rabbit.rabbit_quorum_queue)
    arguments = {"x-queue-type": "quorum"} if quorum else {}
    admin.put_exchange(vhost, DLX, "direct")
    for key, queue in dead_letter_queues(conf).items():
        admin.put_queue(vhost, queue, arguments)
        admin.bind(vhost, DLX, queue, key)
        print(f"dead-letter queue {queue} bound to {DLX} ({key})")
