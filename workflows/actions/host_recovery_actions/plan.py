"""``host_recovery.plan``: list the host's servers, apply host and instance policy, place
each VM on a planned target by capacity (``placing``), order by tier."""

from __future__ import annotations

import time
from typing import Any

from oslo_log import log as logging

from . import (
    capacity,
    events,
    host_policy,
    placing,
    policy,
    reserved,
    runtime,
    snapshot,
    source_check,
)
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


def settings(conf: Any, nova: Any, source: dict[str, Any]) -> dict[str, Any]:
    """What the instance workflows and later rounds read from the plan."""
    group = conf.recovery
    return {"max_attempts": group.max_attempts, "wait_timeout": group.wait_timeout,
            "poll_limit": group.poll_limit, "replan_attempts": group.replan_attempts,
            "ends_stopped": nova.at_least("2.95"), "source": source,
            "ordered_tiers": group.ordered_tiers, "tier_ready_timeout": group.tier_ready_timeout,
            "capacity_wait": group.capacity_wait,
            "capacity_poll_interval": group.capacity_poll_interval,
            "no_valid_host_backoff": group.no_valid_host_backoff,
            "restart_delay_key": conf.policy.restart_delay_key}


def recover_timeout(conf: Any, count: int, concurrency: int) -> int:
    """The recover step's backstop: instance_timeout per concurrency round, plus 30 s."""
    rounds = -(-count // concurrency)
    return int(conf.recovery.instance_timeout * max(rounds, 1) + 30)


class PlanAction(Action):
    """Output: instances (this round's, highest priority first, each with its planned
    ``target_host``), pending (later tiers), waiting (fit nowhere: never sent to Nova, with
    ``waiting_reason``), skipped (with reasons), concurrency, on_shared_storage (value,
    source, sent), microversion, settings, reserved_enabled / reserved_would_enable /
    reserved_skipped (``reserved``). ``preview``: ``host-recovery plan`` (no
    notifications). Reserved hosts are enabled only by a recovery whose fence step passed:
    never by a preview or in shadow mode (mode: plan, where no fence step runs)."""

    def __init__(self, incident_id: str, host: str, on_shared_storage: bool | None = None,
                 attempt: int = 1, fence: dict[str, Any] | None = None,
                 fencing_confirmed: bool = False, fencing_evidence: Any = None,
                 preview: bool = False) -> None:
        self.incident_id = incident_id
        self.host = host
        self.on_shared_storage = on_shared_storage
        self.attempt = int(attempt or 1)
        self.fence = fence or {}
        self.fencing_confirmed = bool(fencing_confirmed)
        self.fencing_evidence = fencing_evidence
        self.preview = bool(preview)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        nova, conf = rt.nova, rt.conf
        execution_id = execution_ids(context)["workflow_execution_id"]
        aggregates = nova.aggregates()
        hp = policy.resolve_host_policy(
            self.host, host_policy.load_rules(conf.policy.host_policy_file), aggregates)
        rules = rules_from(conf)
        chosen = targets(nova, self.host, hp, aggregates)
        bands = list(conf.recovery.tier_bands or [])
        pins = placing.pinned_zones(nova, conf, self.host)
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
                              locked_before=bool(server.get("locked")),
                              tier=capacity.tier_of(decision.priority, bands),
                              demand=list(snapshot.demand(server)),
                              pinned_zone=pins.get(str(server["id"]))))
        # only a recovery changes Nova: shadow mode has no fence step (fence is {}), and the
        # policy is read again here, so a host switched to mode: plan meanwhile acts as one
        act = bool(self.fence.get("fenced")) and not self.preview and hp.mode != "plan"
        found = reserved.place(nova, conf, self.host, plans, hp, aggregates, act,
                               ("plan", self.incident_id, execution_id))
        layout = placing.split(plans, found.placed, conf.recovery.ordered_tiers, chosen)
        plans = layout["instances"]
        concurrency = hp.max_concurrency or conf.recovery.concurrency
        shared = policy.resolve_shared_storage(hp, self.on_shared_storage,
                                               conf.recovery.on_shared_storage,
                                               nova.at_least("2.14"))
        source = self._baseline(nova)
        result = {
            "instances": plans, "skipped": skipped, "pending": layout["pending"],
            "waiting": layout["waiting"], "violations": layout["violations"],
            "capacity_plan": layout["capacity_plan"], "round": 1,
            "round_state": "run", "round_started": time.time(),
            "waiting_since": time.time() if layout["waiting"] else None, "ready_seen": {},
            "concurrency": concurrency,
            "recover_timeout": recover_timeout(conf, len(plans), concurrency),
            "on_shared_storage": shared, "microversion": str(nova.version.get_string()),
            "host_policy": hp.as_dict(), "targets": chosen,
            "reserved_enabled": found.enabled if act else [],
            "reserved_would_enable": [] if act else found.enabled,
            "reserved_skipped": found.skipped,
            "settings": settings(conf, nova, source),
        }
        LOG.info("plan: incident %s host %s execution %s: %d to recover now, %d in later "
                 "tiers, %d waiting for capacity, %d skipped, concurrency %s",
                 self.incident_id, self.host, execution_id, len(plans),
                 len(layout["pending"]), len(layout["waiting"]), len(skipped),
                 result["concurrency"])
        for item in layout["waiting"]:
            LOG.warning("plan: incident %s host %s execution %s instance %s: "
                        "waiting_for_capacity: %s", self.incident_id, self.host,
                        execution_id, item["id"], item["waiting_reason"])
        if self.preview:
            return result
        rt.notify(*events.incident(
            "start", self.incident_id, self.host, self.attempt, execution_id,
            planned=len(plans) + len(layout["pending"]) + len(layout["waiting"]),
            skipped=len(skipped), microversion=result["microversion"],
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
