"""``host_recovery.next_round``: what the incident does after a round of instance workflows.

The plan holds the VMs of later tiers (``pending``) and those that fit nowhere
(``waiting``, never sent to Nova). After each round this action answers, quickly, with the
plan and its ``round_state``:

- ``wait`` (``poll`` seconds, then ask again; the workflow waits, no executor thread does):
  ordered tiers and the previous tier's VMs are not ready yet (ACTIVE with power state
  RUNNING, or back in their expected state, plus the restart delay their metadata sets), or
  VMs still wait for capacity within ``capacity_wait``;
- ``run``: the next VMs that fit now (re-planned against Placement as it is now), highest
  tier first;
- ``done``: nothing left; VMs still waiting after ``capacity_wait`` are listed as
  ``not_recovered``. If the source host returned and was never proven dead
  (``source_check``), the VMs left are ``not_moved`` and nothing more is evacuated.
"""

from __future__ import annotations

import time
from typing import Any

from oslo_log import log as logging

from . import events, host_policy, placing, policy, report, reserved, runtime, source_check
from . import plan as plan_module
from .base import Action, execution_ids

LOG = logging.getLogger(__name__)
VM_STATE, TASK_STATE = "OS-EXT-STS:vm_state", "OS-EXT-STS:task_state"
POWER_STATE, RUNNING = "OS-EXT-STS:power_state", 1
NOT_RECOVERED = "not_recovered"


def ready(server: dict[str, Any], expected: str) -> bool:
    """Back as Nova can tell: the expected state, no task, and running if active (Nova
    exposes no guest readiness; the metadata's restart delay stands in for it)."""
    if server.get(VM_STATE) != expected or server.get(TASK_STATE):
        return False
    return expected != "active" or server.get(POWER_STATE) == RUNNING


def delay_of(server: dict[str, Any], key: str) -> float:
    try:
        return max(0.0, float((server.get("metadata") or {}).get(key, 0)))
    except (TypeError, ValueError):
        return 0.0


class NextRoundAction(Action):
    """Output: the plan with ``round_state`` (run | wait | done), ``poll`` and the next
    round's ``instances``."""

    def __init__(self, incident_id: str, host: str, plan: dict[str, Any],
                 results: list[Any] | None = None, attempt: int = 1) -> None:
        self.incident_id = incident_id
        self.host = host
        self.plan = plan
        self.results = results
        self.attempt = int(attempt or 1)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        nova, conf = rt.nova, rt.conf
        self._execution = execution_ids(context)["workflow_execution_id"]
        plan, now = dict(self.plan), time.time()
        settings = plan.get("settings") or {}
        records = {str(r["id"]): r for r in report.records_in(self.results)}
        # a VM whose planned target filled up meanwhile was not sent: it waits again
        again = [dict(i, waiting_reason=records[str(i["id"])].get("reason"))
                 for i in plan.get("instances") or []
                 if (records.get(str(i["id"])) or {}).get("result") == NOT_RECOVERED]
        records = {k: r for k, r in records.items() if r.get("result") != NOT_RECOVERED}
        pending = [i for i in plan.get("pending") or [] if str(i["id"]) not in records]
        waiting = [i for i in plan.get("waiting") or [] if str(i["id"]) not in records]
        waiting += [i for i in again if i["id"] not in {w["id"] for w in waiting}]
        if not pending and not waiting:
            return dict(plan, instances=[], pending=[], waiting=[], round_state="done")
        verdict = source_check.check(nova, settings.get("source"), self.host)
        if verdict["stop"]:
            return self._end(rt, plan, pending + waiting, "not_moved",
                             f"not moved: the source host returned ({verdict['reason']})")
        if settings.get("ordered_tiers") and pending and plan.get("instances"):
            seen = self._ready_seen(nova, plan, records, settings, now)
            limit = float(settings.get("tier_ready_timeout") or 0)
            if seen is not None and now - float(plan.get("round_started") or now) < limit:
                return dict(plan, round_state="wait", ready_seen=seen,
                            poll=float(conf.recovery.poll_interval))
        aggregates = nova.aggregates()
        hp = policy.resolve_host_policy(
            self.host, host_policy.load_rules(conf.policy.host_policy_file), aggregates)
        items = pending + waiting
        # VMs that still fit nowhere may get a reserved host enabled (reserved.py); as in
        # the plan, a host switched to mode: plan meanwhile enables none (says which)
        act = hp.mode != "plan"
        found = reserved.place(nova, conf, self.host, items, hp, aggregates, act,
                               ("next_round", self.incident_id, self._execution),
                               known=list(plan.get("reserved_skipped") or []))
        layout = placing.split(items, found.placed, bool(settings.get("ordered_tiers")))
        since = plan.get("waiting_since") or now
        plan.update(pending=layout["pending"], waiting=layout["waiting"],
                    violations=list(plan.get("violations") or []) + layout["violations"],
                    waiting_since=since if layout["waiting"] else None,
                    reserved_enabled=list(plan.get("reserved_enabled") or []) +
                    (found.enabled if act else []),
                    reserved_would_enable=[] if act else found.enabled,
                    reserved_skipped=found.skipped)
        if layout["instances"]:
            concurrency = int(plan.get("concurrency") or conf.recovery.concurrency)
            LOG.info("next_round: incident %s host %s execution %s: round %s, %d VMs now, "
                     "%d later, %d waiting", self.incident_id, self.host, self._execution,
                     int(plan.get("round") or 1) + 1, len(layout["instances"]),
                     len(layout["pending"]), len(layout["waiting"]))
            return dict(plan, instances=layout["instances"], round_state="run",
                        round=int(plan.get("round") or 1) + 1, round_started=now,
                        ready_seen={}, recover_timeout=plan_module.recover_timeout(
                            conf, len(layout["instances"]), concurrency))
        if layout["waiting"] and now - since < float(settings.get("capacity_wait") or 0):
            return dict(plan, instances=[], round_state="wait",
                        poll=float(settings.get("capacity_poll_interval") or 30))
        if layout["waiting"]:
            return self._end(rt, plan, layout["waiting"], NOT_RECOVERED,
                             f"waiting_for_capacity for {now - since:.0f} s")
        return dict(plan, instances=[], round_state="done")

    def _ready_seen(self, nova: Any, plan: dict[str, Any], records: dict[str, Any],
                    settings: dict[str, Any], now: float) -> dict[str, float] | None:
        """When each evacuated VM of the last round was first seen ready; None once all
        are ready and their restart delays have passed."""
        seen = dict(plan.get("ready_seen") or {})
        key = str(settings.get("restart_delay_key") or "host_recovery:restart_delay")
        waiting = False
        for item in plan.get("instances") or []:
            record = records.get(str(item["id"]))
            if not record or record.get("result") != "evacuated":
                continue  # a VM that failed does not hold the next tier back
            server = nova.server(str(item["id"]))
            expected = str(record.get("final_state") or item.get("expected_state") or "active")
            if not ready(server, expected):
                waiting = True
                continue
            first = float(seen.setdefault(str(item["id"]), now))
            waiting = waiting or now < first + delay_of(server, key)
        return seen if waiting else None

    def _end(self, rt: Any, plan: dict[str, Any], items: list[dict[str, Any]], result: str,
             reason: str) -> dict[str, Any]:
        lines = []
        recorded = {str(r["id"]) for r in report.records_in(self.results)}
        for item in items:
            if str(item["id"]) in recorded:  # its not_recovered record stays the line
                continue
            why = item.get("waiting_reason")
            line = events.record(item, self.host, result, f"{reason}: {why}" if why else reason)
            lines.append(line)
            rt.notify(*events.instance(line, self.incident_id, self.attempt, self._execution),
                      priority="error")
        if items:
            LOG.warning("next_round: incident %s host %s execution %s: %d VMs %s: %s",
                        self.incident_id, self.host, self._execution, len(items), result,
                        reason)
        return dict(plan, instances=[], pending=[], waiting=[], round_state="done",
                    skipped=list(plan.get("skipped") or []) + lines)
