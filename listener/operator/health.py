"""``host-recovery health``: is anything lost, looping or stuck? For monitoring (Nagios).

One line per check, ``<STATUS> <check>: <detail>``; exit status is the worst one: 0 OK,
1 WARNING, 2 CRITICAL, 3 UNKNOWN (a check that could not look). Checks: broker, Mistral,
workflow, dead letters (depth, growth since the last run), redeliveries (rate since the
last run), late host-downs (any since the last run), incidents (oldest unfinished, stuck),
signatures (every listener holds the key producers sign with). Thresholds: [health]
(docs/operations.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from listener import health_probe, incident_health, workflow_check
from listener.mistral_api import MistralAPI
from notifications import signing
from notifications.publisher import parse_transport_url

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
Result = tuple[int, str]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("health", help="broker, Mistral, workflow, dead letters, "
                                   "redeliveries, late host-downs, incidents, signatures "
                                   "(exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds per check (default 10)")
    parser.set_defaults(func=run)


def check_broker(conf: cfg.ConfigOpts, timeout: float) -> Result:
    urls = parse_transport_url(conf.transport_url)
    with health_probe.broker_connection(conf, timeout):
        pass  # connected (TLS as the listeners' when [oslo_messaging_rabbit] ssl is on)
    return OK, f"{len(urls)} URL(s), connected"


def check_mistral(api: MistralAPI) -> Result:
    api.list_executions(fields=["id"], limit=1)
    return OK, "API answers"


def check_workflow(conf: cfg.ConfigOpts, api: MistralAPI) -> Result:
    problems = workflow_check.check(api, workflow_check.expected_definition(conf))
    if problems:
        return CRITICAL, "; ".join(problems)
    return OK, "workflow and action pack up to date"


def check_dead_letters(conf: cfg.ConfigOpts, state: health_probe.State,
                       timeout: float) -> Result:
    depths = health_probe.dead_letter_depths(conf, timeout)
    total = sum(depths.values())
    shown = ", ".join(f"{q} {n}" for q, n in depths.items())
    change = state.since("dead_letters", total)
    if change is not None and change[0] > 0:
        return CRITICAL, f"{shown}: +{change[0]:.0f} in {change[1]:.0f} s (read the reasons)"
    if total:
        return WARNING, f"{shown} (not growing: read, then purge)"
    return OK, f"{shown}"


def check_redeliveries(state: health_probe.State, samples: list[health_probe.Samples],
                       per_minute: float) -> Result:
    total = sum(v for s in samples for (name, _), v in s.items()
                if name == "host_recovery_redeliveries_total")
    change = state.since("redeliveries", total)
    if change is None or change[1] <= 0:
        return OK, f"{total:.0f} in total (rate from the next run)"
    rate = max(0.0, change[0]) * 60 / change[1]
    status = WARNING if rate > per_minute else OK
    return status, f"{rate:.1f}/min over {change[1]:.0f} s (warning above {per_minute:g})"


def check_late(state: health_probe.State, samples: list[health_probe.Samples]) -> Result:
    """Host-downs acted on late (after an outage of listeners or Mistral) since the last run:
    each one was checked for fresh evidence, but an outage happened (docs/listener.md)."""
    total = sum(v for s in samples for (name, _), v in s.items()
                if name == "host_recovery_late_host_downs_total")
    change = state.since("late_host_downs", total)
    if change is None or change[1] <= 0:
        return OK, f"{total:.0f} in total (window from the next run)"
    if change[0] > 0:
        return WARNING, (f"+{change[0]:.0f} in the last {change[1]:.0f} s: host-downs "
                         "delivered after an outage (listener logs 'late'); find the outage")
    return OK, f"none in the last {change[1]:.0f} s ({total:.0f} in total)"


def check_incidents(conf: cfg.ConfigOpts, api: MistralAPI) -> Result:
    report = incident_health.assess(api, conf.health.stuck_after,
                                    idle_task_after=conf.health.idle_task_after)
    if report.stuck:
        worst = max(report.stuck, key=lambda s: s.idle_for)
        return CRITICAL, (f"{len(report.stuck)} stuck (no progress for "
                          f"{conf.health.stuck_after} s, or a task IDLE for "
                          f"{conf.health.idle_task_after} s), e.g. incident {worst.incident_id} "
                          f"execution {worst.execution_id}: {worst.detail} for "
                          f"{worst.idle_for:.0f} s; resume: docs/operations.md")
    detail = (f"{report.unfinished} unfinished, oldest {report.oldest_incident} "
              f"{report.oldest_age:.0f} s" if report.unfinished else "none unfinished")
    return (WARNING if report.oldest_age > conf.health.incident_age_warning else OK), detail


def check_signatures(conf: cfg.ConfigOpts, scraped: dict[str, health_probe.Samples]) -> Result:
    wanted = signing.keyring_from_conf(conf).signing_key()[0] or signing.DEFAULT_KEY_ID
    missing, blind = [], []
    for url, samples in scraped.items():
        ids = {dict(labels).get("key_id") for (name, labels), value in samples.items()
               if name == "host_recovery_signing_key_info" and value}
        if not ids:
            blind.append(url)
        elif wanted not in ids:
            missing.append(url)
    if blind or missing:
        return CRITICAL, (f"cannot verify: {', '.join(blind) or '-'}; without key id "
                          f"{wanted!r}: {', '.join(missing) or '-'}")
    return OK, f"{len(scraped)} listener(s) hold key id {wanted!r}"


def _scrape_all(conf: cfg.ConfigOpts, timeout: float
                ) -> tuple[dict[str, health_probe.Samples], list[str]]:
    scraped, failed = {}, []
    for url in conf.health.listener_metrics_urls:
        try:
            scraped[url] = health_probe.scrape(url, timeout)
        except Exception as exc:  # one listener away: say which
            failed.append(f"{url} ({type(exc).__name__})")
    return scraped, failed


def checks(conf: cfg.ConfigOpts, api: MistralAPI, state: health_probe.State,
           timeout: float) -> list[tuple[str, Callable[[], Result]]]:
    """The checks, in order (a tuple so tests can run one)."""
    scraped, failed = _scrape_all(conf, timeout)

    def signatures() -> Result:
        if failed:
            return UNKNOWN, f"cannot read metrics of {', '.join(failed)}"
        if not scraped:
            return OK, "not checked (set [health] listener_metrics_urls)"
        return check_signatures(conf, scraped)

    return [
        ("broker", lambda: check_broker(conf, timeout)),
        ("mistral", lambda: check_mistral(api)),
        ("workflow", lambda: check_workflow(conf, api)),
        ("dead_letters", lambda: check_dead_letters(conf, state, timeout)),
        ("redeliveries", lambda: check_redeliveries(state, list(scraped.values()),
                                                    conf.health.redelivery_rate_warning)),
        ("late_host_downs", lambda: check_late(state, list(scraped.values()))),
        ("incidents", lambda: check_incidents(conf, api)),
        ("signatures", signatures),
    ]


def run(conf: cfg.ConfigOpts, args: argparse.Namespace) -> int:
    conf.set_override("timeout", args.timeout, group="mistral")
    api = MistralAPI.from_conf(conf)
    state = health_probe.State(conf.health.state_file)
    worst = OK
    for name, check in checks(conf, api, state, args.timeout):
        try:
            status, detail = check()
        except Exception as exc:  # a check that fails to run: its component is down
            status, detail = CRITICAL, f"{type(exc).__name__}: {exc}"
        # UNKNOWN ranks below CRITICAL, above WARNING (Nagios plugin guidelines)
        rank = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}
        if rank[status] > rank[worst]:
            worst = status
        print(f"{NAMES[status]} {name}: {detail}")
    state.save()
    return worst
