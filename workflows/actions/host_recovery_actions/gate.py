"""``host_recovery.gate`` (proceed | hold | skip | joined | plan) and
``host_recovery.await_approval``.

``plan`` is shadow mode (host policy ``mode: plan``): the workflow plans and reports, and
neither fences nor evacuates; the mass-failure guard does not count such hosts.
"""

from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from . import contract, events, guard, host_policy, policy, runtime
from .base import Action, execution_ids

LOG = logging.getLogger(__name__)
WORKFLOW_NAME = contract.RECOVER_HOST


class GateAction(Action):
    """One incident per host (a later one joins the running one), host policy, then the
    mass-failure guard, against Mistral's shared record."""

    def __init__(self, incident_id: str, host: str, attempt: int = 1,
                 failure_time: str | None = None, reporter: str | None = None,
                 source: str | None = None) -> None:
        self.incident_id = incident_id
        self.host = host
        self.attempt = int(attempt or 1)
        self.failure_time = failure_time
        self.reporter = reporter
        self.source = source

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        execution_id = execution_ids(context)["workflow_execution_id"]
        rules = host_policy.load_rules(rt.conf.policy.host_policy_file)
        aggregates = rt.nova.aggregates()
        hp = policy.resolve_host_policy(self.host, rules, aggregates)
        result: dict[str, Any] = {"host": self.host, "host_policy": hp.as_dict(),
                                  "rank": None, "limit": None, "joined": None}
        me = rt.mistral.execution(execution_id)
        others = rt.mistral.executions(WORKFLOW_NAME)
        leader = guard.joined_to(me, others)
        if leader is not None:
            decision = "joined"
            reason = (f"host {self.host} is being recovered by incident "
                      f"{guard.incident_of(leader)} (execution {leader['id']}, created "
                      f"{leader['created_at']}): this host-down joins it")
            result["joined"] = {"incident_id": guard.incident_of(leader),
                                "execution_id": leader["id"]}
            LOG.warning("gate: incident %s host %s execution %s joined incident %s",
                        self.incident_id, self.host, execution_id, guard.incident_of(leader))
        elif not hp.enabled:
            decision, reason = "skip", ("recovery disabled for this host by "
                                        f"{hp.sources.get('enabled')}")
        elif hp.mode == "plan":
            decision, reason = "plan", ("shadow mode (mode: plan by "
                                        f"{hp.sources.get('mode')}): planned, nothing "
                                        "evacuated")
        elif self.attempt > 1:
            decision, reason = "proceed", f"re-run (attempt {self.attempt}) by an operator"
        else:
            conf = rt.conf.guard
            allowed = guard.limit(conf.max_hosts, conf.max_fraction,
                                  len(rt.nova.compute_services()))

            def enabled(host: str) -> bool:  # shadow hosts evacuate nothing: not counted
                found = policy.resolve_host_policy(host, rules, aggregates)
                return found.enabled and found.mode != "plan"

            decision, reason, rank = guard.rank_decision(me, others, enabled, conf.window,
                                                         allowed)
            result.update(rank=rank, limit=allowed)
        LOG.info("gate: incident %s host %s execution %s: %s (%s)", self.incident_id,
                 self.host, execution_id, decision, reason)
        result.update(decision=decision, reason=reason)
        return result


class AwaitApprovalAction(Action):
    """Async: stays RUNNING until ``host-recovery approve|discard`` completes it with
    ``{"approved": true|false, "by": "<who>"}``."""

    def __init__(self, incident_id: str, host: str, reason: str, attempt: int = 1) -> None:
        self.incident_id = incident_id
        self.host = host
        self.reason = reason
        self.attempt = int(attempt or 1)

    def is_sync(self) -> bool:
        return False

    def run(self, context: Any) -> None:
        rt = runtime.build()
        ids = execution_ids(context)
        LOG.warning("incident %s host %s execution %s held for approval: %s",
                    self.incident_id, self.host, ids["workflow_execution_id"], self.reason)
        rt.notify(*events.incident("held", self.incident_id, self.host, self.attempt,
                                   ids["workflow_execution_id"], reason=self.reason,
                                   approval_action_id=ids["action_execution_id"]),
                  priority="warn")
