"""``host_recovery.plan``: list the host's servers, apply host and instance policy, order."""

from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from . import events, host_policy, policy, runtime, source_check
from .base import Action, execution_ids

LOG = logging.getLogger(__name__)


def rules_from(conf: Any) -> policy.InstanceRules:
    """The [policy] options as InstanceRules."""
    group = conf.policy
    return policy.InstanceRules(
        mode=group.mode, enabled_keys=list(group.enabled_keys),
        priority_keys=list(group.priority_keys), evacuable_tags=list(group.evacuable_tags),
        error_vms=group.error_vms, other_states=group.other_states,
        task_state=group.task_state, user_locked=group.user_locked,
        default_priority=group.default_priority)


def targets(nova: Any, source: str, hp: policy.HostPolicy,
            aggregates: list[dict[str, Any]]) -> list[str]:
    """Usable target hosts from the host policy (empty: leave it to the scheduler)."""
    wanted = list(hp.target_hosts)
    if not wanted and hp.target_aggregate:
        for agg in aggregates:
            if agg.get("name") == hp.target_aggregate:
                wanted = list(agg.get("hosts") or [])
    if not wanted:
        return []
    usable = {s["host"] for s in nova.compute_services()
              if s.get("state") == "up" and s.get("status") == "enabled"
              and not s.get("forced_down")}
    return [h for h in wanted if h != source and h in usable]


def recover_timeout(conf: Any, count: int, concurrency: int) -> int:
    """The recover step's backstop: instance_timeout per concurrency round, plus 30 s."""
    rounds = -(-count // concurrency)
    return int(conf.recovery.instance_timeout * max(rounds, 1) + 30)


class PlanAction(Action):
    """Output: instances (to recover, highest priority first), skipped (with reasons),
    concurrency, on_shared_storage (value, source, sent), microversion, settings."""

    def __init__(self, incident_id: str, host: str, on_shared_storage: bool | None = None,
                 attempt: int = 1, fence: dict[str, Any] | None = None,
                 fencing_confirmed: bool = False, fencing_evidence: Any = None) -> None:
        self.incident_id = incident_id
        self.host = host
        self.on_shared_storage = on_shared_storage
        self.attempt = int(attempt or 1)
        self.fence = fence or {}
        self.fencing_confirmed = bool(fencing_confirmed)
        self.fencing_evidence = fencing_evidence

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        nova, conf = rt.nova, rt.conf
        execution_id = execution_ids(context)["workflow_execution_id"]
        aggregates = nova.aggregates()
        hp = policy.resolve_host_policy(
            self.host, host_policy.load_rules(conf.policy.host_policy_file), aggregates)
        rules = rules_from(conf)
        chosen = targets(nova, self.host, hp, aggregates)
        plans, skipped = [], []
        for server in nova.host_servers(self.host):
            decision = policy.decide_instance(server, nova.flavor_extra_specs(server),
                                              nova.image_properties(server), rules)
            line = events.record(server, self.host, "skipped", decision.reason)
            if decision.action == "skip":
                skipped.append(line)
                continue
            # locked_before: the incident's record of locks that are not ours (below 2.73
            # Nova keeps no lock reason to tell them apart)
            plans.append(dict(line, result=None, action=decision.action,
                              expected_state=decision.expected_state,
                              priority=decision.priority, user_locked=decision.user_locked,
                              locked_before=bool(server.get("locked"))))
        plans = policy.order(plans)
        for index, item in enumerate(plans):
            item["target_host"] = chosen[index % len(chosen)] if chosen else None
        concurrency = hp.max_concurrency or conf.recovery.concurrency
        shared = policy.resolve_shared_storage(hp, self.on_shared_storage,
                                               conf.recovery.on_shared_storage,
                                               nova.at_least("2.14"))
        result = {
            "instances": plans, "skipped": skipped,
            "concurrency": concurrency,
            "recover_timeout": recover_timeout(conf, len(plans), concurrency),
            "on_shared_storage": shared, "microversion": str(nova.version.get_string()),
            "host_policy": hp.as_dict(), "targets": chosen,
            "settings": {"max_attempts": conf.recovery.max_attempts,
                         "wait_timeout": conf.recovery.wait_timeout,
                         "poll_limit": conf.recovery.poll_limit,
                         "replan_attempts": conf.recovery.replan_attempts,
                         "ends_stopped": nova.at_least("2.95"),
                         "source": self._baseline(nova)},
        }
        LOG.info("plan: incident %s host %s execution %s: %d to recover, %d skipped, "
                 "concurrency %s", self.incident_id, self.host, execution_id, len(plans),
                 len(skipped), result["concurrency"])
        rt.notify(*events.incident(
            "start", self.incident_id, self.host, self.attempt, execution_id,
            planned=len(plans), skipped=len(skipped), microversion=result["microversion"],
            on_shared_storage=shared))
        for line in skipped:
            rt.notify(*events.instance(line, self.incident_id, self.attempt, execution_id))
        return result

    def _baseline(self, nova: Any) -> dict[str, Any]:
        """The re-check's baseline (source_check): from the fence step's output, else read
        now (a workflow whose fence step does not report ``updated_at``)."""
        has_write = bool((self.fence.get("service") or {}).get("updated_at"))
        service = None
        if not has_write:
            found = nova.compute_services(self.host)
            service = found[0] if found else None
        if "proven_dead" in self.fence:  # the fence step says which proof it used
            proven = bool(self.fence["proven_dead"])
        else:
            proven = bool(self.fencing_evidence) or self.fencing_confirmed
        return source_check.baseline(self.host, self.incident_id, self.fence, proven, service)
