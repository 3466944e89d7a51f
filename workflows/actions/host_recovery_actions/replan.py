"""``host_recovery.replan``: after the recover step timed out or failed, cancel its instance
workflows still running and plan again the VMs that have no record yet.

Why not list the host again: a VM whose instance workflow got stuck after Nova accepted the
evacuation is no longer on the failed host, yet it still needs its state restored and our
lock removed. Re-running the instance workflow for it is safe: evacuate answers ``moved`` or
``in_progress`` (never a second evacuation) and the rest of the steps are idempotent.
"""

from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from . import plan as plan_module
from . import report, runtime
from .base import Action, execution_ids

LOG = logging.getLogger(__name__)


class ReplanAction(Action):
    """Output: the plan with ``instances`` = planned VMs without a record in ``results``,
    a recover timeout for that many, ``replan`` (how many re-plans so far) and
    ``cancelled`` (ids of the stuck instance workflows ended)."""

    def __init__(self, incident_id: str, host: str, plan: dict[str, Any],
                 results: list[Any] | None = None, stuck_task: str | None = None,
                 replan: int = 1) -> None:
        self.incident_id = incident_id
        self.host = host
        self.plan = plan
        self.results = results
        self.stuck_task = stuck_task
        self.replan = int(replan or 1)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        execution_id = execution_ids(context)["workflow_execution_id"]
        cancelled = []
        if self.stuck_task:
            # Mistral does not end a timed-out task's sub-workflows; one with an IDLE task
            # never ends, the others would race the new round on the same VMs.
            reason = f"host-recovery: re-plan {self.replan} of incident {self.incident_id}"
            for sub in rt.mistral.subworkflows(self.stuck_task):
                if rt.mistral.cancel(sub["id"], reason):
                    cancelled.append(sub["id"])
        done = {str(line["id"]) for line in report.records_in(self.results)}
        pending = [item for item in self.plan.get("instances") or []
                   if str(item["id"]) not in done]
        concurrency = int(self.plan.get("concurrency") or rt.conf.recovery.concurrency)
        LOG.warning("replan %d: incident %s host %s execution %s: %d VMs without a result, "
                    "%d stuck instance workflows cancelled", self.replan, self.incident_id,
                    self.host, execution_id, len(pending), len(cancelled))
        return dict(self.plan, instances=pending, replan=self.replan, cancelled=cancelled,
                    recover_timeout=plan_module.recover_timeout(rt.conf, len(pending),
                                                                concurrency))
