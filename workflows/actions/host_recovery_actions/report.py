"""``host_recovery.report``: the incident's output (per VM and summary), its end notification,
and the end of a stale approval wait."""

from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from . import contract, events, runtime, source_check
from .base import Action, execution_ids

LOG = logging.getLogger(__name__)
FAILED_OUTCOMES = ("failed", "refused", "not_fenced")
PLANNED, WAITING = "planned", "waiting_for_capacity"  # shadow mode's per-VM results
NOT_RECOVERED = "not_recovered"  # waited for capacity in vain (rounds.NOT_RECOVERED)


def collect(plan: dict[str, Any] | None, results: list[Any] | None,
            host: str) -> list[dict[str, Any]]:
    """Per-VM records: the sub-workflows' records, the skipped ones, and planned VMs
    without a record (their sub-workflow died) as failed."""
    plan = plan or {}
    # later rounds (re-plans) come later in ``results``: their record of a VM wins
    records = {str(record["id"]): record for record in records_in(results)}
    for planned in plan.get("instances") or []:
        if str(planned["id"]) not in records:
            records[str(planned["id"])] = events.record(
                planned, host, "failed", "no result from the instance workflow")
    lines = list(records.values()) + list(plan.get("skipped") or [])
    return lines


def records_in(results: list[Any] | None) -> list[dict[str, Any]]:
    """The per-VM records in the instance workflows' outputs (an item without one: none)."""
    found = []
    for item in results or []:
        record = item.get("record") if isinstance(item, dict) else None
        if isinstance(record, dict) and record.get("id"):
            found.append(record)
    return found


def planned(plan: dict[str, Any] | None, host: str) -> list[dict[str, Any]]:
    """Shadow mode's per-VM lines: each VM to move ``planned`` with its planned target as
    ``dest_host``, those that fit nowhere ``waiting_for_capacity``, the skipped ones."""
    plan = plan or {}
    lines = []
    for vm in list(plan.get("instances") or []) + list(plan.get("pending") or []):
        target = vm.get("target_host")
        lines.append(events.record(
            vm, host, PLANNED, f"tier {vm.get('tier', 0)}, to "
            f"{target or 'a host chosen by the scheduler'}", dest_host=target))
    for vm in plan.get("waiting") or []:
        lines.append(events.record(vm, host, WAITING, vm.get("waiting_reason")))
    return lines + list(plan.get("skipped") or [])


def summarize(lines: list[dict[str, Any]], shadow: bool = False) -> dict[str, int]:
    summary = {"total": len(lines), "evacuated": 0, "failed": 0, "skipped": 0}
    counted = ("evacuated", "skipped") + ((PLANNED, WAITING) if shadow else ())
    for line in lines:
        key = str(line.get("result")) if line.get("result") in counted else "failed"
        summary[key] = summary.get(key, 0) + 1
    return summary


class ReportAction(Action):
    """``outcome``: recovered (then done or failed by the VMs' results), skipped, discarded,
    refused. Output ``{"outcome", "reason", "instances", "summary"}``."""

    def __init__(self, incident_id: str, host: str, outcome: str, attempt: int = 1,
                 reason: str | None = None, plan: dict[str, Any] | None = None,
                 results: list[Any] | None = None,
                 fence: dict[str, Any] | None = None) -> None:
        self.incident_id = incident_id
        self.host = host
        self.outcome = outcome
        self.attempt = int(attempt or 1)
        self.reason = reason
        self.plan = plan
        self.results = results
        self.fence = fence or {}

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        execution_id = execution_ids(context)["workflow_execution_id"]
        if self.outcome == "discarded":  # a timed-out approval stays RUNNING: end it
            for action in rt.mistral.running_actions(contract.AWAIT_APPROVAL,
                                                     incident_id=self.incident_id,
                                                     attempt=self.attempt):
                rt.mistral.complete(action["id"], "ERROR", {"approved": False,
                                                           "by": "approval timeout"})
        outcome, reason = self.outcome, self.reason
        shadow = outcome == PLANNED  # host policy mode: plan, nothing was evacuated
        lines = planned(self.plan, self.host) if shadow else \
            collect(self.plan, self.results, self.host)
        summary = summarize(lines, shadow)
        source = None
        if shadow:
            reason = (f"shadow mode: {summary.get(PLANNED, 0)} VMs would be evacuated, "
                      f"{summary.get(WAITING, 0)} would wait for capacity, "
                      f"{summary['skipped']} skipped; nothing evacuated")
        if outcome == "recovered":
            outcome = "failed" if summary["failed"] else "done"
            reason = (f"{summary['failed']} of {summary['total']} VMs failed"
                      if summary["failed"] else
                      f"{summary['evacuated']} evacuated, {summary['skipped']} skipped")
            unplaced = sum(1 for line in lines if line.get("result") == NOT_RECOVERED)
            if unplaced:  # say that these waited for room and were left as they were
                reason += f" ({unplaced} not recovered: no room, left as they were)"
            source = source_check.incident_end(rt.nova, self.plan, lines)
        if source and source["returned"]:  # host_returned, or recorded (fenced: continued)
            outcome, reason = source["outcome"] or outcome, source_check.describe(
                self.host, source, reason)
        LOG.info("report: incident %s host %s execution %s: %s (%s)", self.incident_id,
                 self.host, execution_id, outcome, reason)
        failed = outcome in FAILED_OUTCOMES
        # which proof let us evacuate (or "unfenced_opt_in"), said loudly everywhere
        used = self.fence.get("evidence")
        warnings = list(self.fence.get("policy_warnings") or []) + \
            list(((self.plan or {}).get("host_policy") or {}).get("warnings") or [])
        warnings = list(dict.fromkeys(warnings))
        # soft server-group policies the plan (or a re-plan) had to break to place a VM
        violations = list(dict.fromkeys((self.plan or {}).get("violations") or []))
        if violations and not shadow:
            LOG.warning("report: incident %s host %s execution %s: %d soft server-group "
                        "policy violation(s): %s", self.incident_id, self.host, execution_id,
                        len(violations), "; ".join(violations))
        if failed:
            rt.notify(*events.incident("error", self.incident_id, self.host, self.attempt,
                                       execution_id, outcome=outcome, reason=reason),
                      priority="error")
        rt.notify(*events.incident("end", self.incident_id, self.host, self.attempt,
                                   execution_id, outcome=outcome, reason=reason,
                                   summary=summary, evidence=used,
                                   policy_violations=violations),
                  priority="warn" if used == "unfenced_opt_in" else "info")
        return {"outcome": outcome, "reason": reason, "instances": lines, "summary": summary,
                "failed": failed, "evidence": used, "policy_warnings": warnings,
                "policy_violations": violations, "source_host": source}
