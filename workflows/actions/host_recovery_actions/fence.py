"""``host_recovery.fence``: evacuate only from a host proven dead since the failure began.

Accepted proof (docs/design.md, Safety), newest first: an operator's ``approve --fenced``
carried by the approval, a fresh fencing event carried by the approval, the incident's own
``fencing_evidence`` (Pacemaker fencing, or our own force-down by this incident). Evidence older
than the failure, about another host, or (after a hold) from before the host came back is
stale. "Down in Nova" and a ``forced_down`` someone else set prove nothing; a host whose policy
says ``unfenced_recovery: allow`` proceeds after ``require_down_for`` seconds of continuous
"down" (Nova's ``updated_at`` unchanged: Nova's timestamps are compared only with each other).
With proof the service is forced down (fence_compute does the same); without it the incident
ends without evacuating anything.
"""

from __future__ import annotations

import time
from typing import Any

from oslo_log import log as logging

from . import evidence, host_policy, policy, runtime
from .base import Action, execution_ids

LOG = logging.getLogger(__name__)
UNFENCED = "unfenced_opt_in"
BRIEF = ("id", "host", "state", "status", "forced_down", "updated_at")


def _brief(service: dict[str, Any]) -> dict[str, Any]:
    return {key: service.get(key) for key in BRIEF}


def _is_up(service: dict[str, Any]) -> bool:
    return service.get("state") == "up" and not service.get("forced_down")


class FenceAction(Action):
    """Output: ``{"fenced", "proven_dead", "forced_down", "service", "reason", "evidence",
    "outcome", "rejected", "policy_warnings"}``; ``evidence`` is the record used or
    "unfenced_opt_in"; ``outcome`` is null when fenced, else refused (the host is up) or
    not_fenced."""

    def __init__(self, incident_id: str, host: str, fencing_confirmed: bool = False,
                 fencing_evidence: dict[str, Any] | None = None,
                 failure_time: str | None = None,
                 approval: dict[str, Any] | None = None, attempt: int = 1) -> None:
        self.incident_id = incident_id
        self.host = host
        self.fencing_confirmed = bool(fencing_confirmed)
        self.fencing_evidence = fencing_evidence
        self.failure_time = failure_time
        self.approval = approval or {}
        self.attempt = int(attempt or 1)
        self.execution_id: str | None = None
        self.used: Any = None            # the evidence record used, or UNFENCED
        self.rejected: list[str] = []    # why each other record proved nothing
        self.warnings: list[str] = []    # host policy values ignored

    def _log(self, level: int, text: str, *args: Any) -> None:
        LOG.log(level, "fence: incident %s host %s execution %s: %s", self.incident_id,
                self.host, self.execution_id, text % args)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        self.execution_id = execution_ids(context)["workflow_execution_id"]
        services = rt.nova.compute_services(self.host)
        if not services:
            return self._result(None, f"no nova-compute service on host {self.host}",
                                "not_fenced")
        service = services[0]
        record, self.rejected = self._evidence(rt, service)
        if record is not None:
            return self._fence(rt, service, record)
        hp = policy.resolve_host_policy(
            self.host, host_policy.load_rules(rt.conf.policy.host_policy_file),
            rt.nova.aggregates())
        self.warnings = hp.warnings
        for warning in hp.warnings:
            self._log(logging.WARNING, "host policy: %s", warning)
        why = "; ".join(self.rejected) or "no fencing evidence"
        if hp.unfenced_recovery == "allow":
            return self._unfenced(rt, service, hp, why)
        if _is_up(service):
            self._log(logging.ERROR, "refused, nova-compute is up and not proven dead (%s)",
                      why)
            return self._result(_brief(service), (
                f"refused: nova-compute on {self.host} is up and fencing is not confirmed "
                f"({why}); a live host is never evacuated"), "refused")
        self._log(logging.ERROR, "not fenced (%s): nothing is evacuated", why)
        return self._result(_brief(service), (
            f"not fenced: {self.host} is not proven dead since the failure ({why}); down in "
            "Nova is not proof. Approve with --fenced after checking the host, or set "
            "unfenced_recovery: allow in its host policy"), "not_fenced")

    # -- evidence ---------------------------------------------------------------------------
    def _candidates(self) -> tuple[list[evidence.Evidence], list[str]]:
        found: list[evidence.Evidence] = []
        problems: list[str] = []
        raws = [("approval", self.approval.get("fencing_evidence")),
                ("incident", self.fencing_evidence)]
        for where, raw in raws:
            try:
                record = evidence.parse(raw)
            except ValueError as exc:
                problems.append(f"{where} evidence malformed: {exc}")
                continue
            if record is not None:
                found.append(record)
        if self.fencing_confirmed and self.fencing_evidence is None:
            # a bare claim (v1 reporter, deprecated CLI flag) says nothing of what proved the
            # host dead, or when: it is not evidence (design.md, Safety)
            problems.append("fencing_confirmed without a fencing_evidence record is a claim, "
                            "not evidence")
        return found, problems

    def _evidence(self, rt: Any, service: dict[str, Any]
                  ) -> tuple[evidence.Evidence | None, list[str]]:
        """The freshest acceptable record, and why the others were rejected."""
        records, rejected = self._candidates()
        # after a hold or for an operator's re-run, time has passed since the proof; and a
        # host-down delivered late (listeners or Mistral were down) carries an old proof too
        late = bool(self.approval.get("approved")) or self.attempt > 1
        fresh_for = float(rt.conf.recovery.evidence_fresh_for)
        usable = []
        for record in records:
            problem = evidence.staleness(record, self.host, self.incident_id,
                                         self.failure_time, rt.conf.recovery.fencing_clock_skew)
            aged = late or (time.time() - evidence.parse_time(record["completed_at"])
                            .timestamp() > fresh_for)
            if problem is None and aged and record["kind"] != "operator" and _is_up(service):
                # the wait outlived the proof: the host runs nova-compute again
                problem = (f"{record['kind']} evidence of {record['completed_at']} is stale: "
                           f"nova-compute on {self.host} is up again")
            if problem is None and record["kind"] == "nova_force_down" and \
                    not service.get("forced_down"):
                problem = "this incident's force-down has been cleared since"
            if problem:
                rejected.append(problem)
            else:
                usable.append(record)
        return evidence.freshest(usable), rejected

    def _fence(self, rt: Any, service: dict[str, Any],
               record: evidence.Evidence) -> dict[str, Any]:
        self.used = dict(record)
        what = f"{record['kind']} completed at {record['completed_at']}"
        if service.get("forced_down"):
            return self._result(_brief(service), f"proven dead ({what}); service was already "
                                "forced down", None)
        # the write's answer carries updated_at: the re-check's baseline (source_check)
        after = rt.nova.force_down(service)
        if not isinstance(after, dict) or not after.get("updated_at"):
            after = (rt.nova.compute_services(self.host) or [dict(service, forced_down=True)])[0]
        self._log(logging.WARNING, "nova-compute forced down, proven dead by %s", what)
        return self._result(_brief(after), f"service forced down (proven dead: {what})", None,
                            forced=True)

    def _unfenced(self, rt: Any, service: dict[str, Any], hp: policy.HostPolicy,
                  why: str) -> dict[str, Any]:
        """Recover without proof only after ``require_down_for`` s of continuous down."""
        source = hp.sources.get("unfenced_recovery")
        if _is_up(service):
            return self._result(_brief(service), (
                f"refused: nova-compute on {self.host} is up ({why}); unfenced recovery "
                f"({source}) needs it down for {hp.require_down_for} s"), "refused")
        first = service.get("updated_at")
        deadline = time.monotonic() + hp.require_down_for
        self._log(logging.WARNING, "no fencing evidence (%s): unfenced recovery allowed by "
                  "%s once down for %s s", why, source, hp.require_down_for)
        while True:
            current = (rt.nova.compute_services(self.host) or [service])[0]
            if _is_up(current) or current.get("updated_at") != first:
                return self._result(_brief(current), (
                    f"not fenced: {self.host} was not continuously down for "
                    f"{hp.require_down_for} s (updated_at {first} -> "
                    f"{current.get('updated_at')}, state {current.get('state')})"),
                    "not_fenced")
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(rt.conf.recovery.poll_interval, left))
        self.used = UNFENCED
        self._log(logging.WARNING, "UNFENCED recovery (%s): down for %s s, no proof of death",
                  source, hp.require_down_for)
        return self._result(_brief(current), (
            f"UNFENCED recovery allowed by {source}: nova-compute down for "
            f"{hp.require_down_for} s without fencing evidence ({why})"), None)

    def _result(self, service: dict[str, Any] | None, reason: str, outcome: str | None,
                forced: bool = False) -> dict[str, Any]:
        return {"fenced": outcome is None, "forced_down": forced, "service": service,
                # proven_dead: evidence, not the unfenced opt-in (the re-check tells apart)
                "proven_dead": outcome is None and isinstance(self.used, dict),
                "reason": reason, "evidence": self.used, "outcome": outcome,
                "rejected": self.rejected, "policy_warnings": self.warnings}
