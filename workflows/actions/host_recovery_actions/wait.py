"""``host_recovery.wait_evacuation`` (async, completed by the listener from Nova's
notifications) and ``host_recovery.poll_evacuation`` (the bounded polling fallback).

Input: contract.WaitInput. Completion the workflow expects (PUT
/v2/action_executions/<id>), output a contract.WaitOutput::

    {"state": "SUCCESS", "output": {"result": "evacuated" | "error", "host": <dest>,
     "vm_state": <str>, "fault": <str|null>, "via": "notification"}}

State ERROR is accepted too: the workflow then polls Nova for the truth.
"""

from __future__ import annotations

import time
from typing import Any

from oslo_log import log as logging

from . import runtime, status
from .base import Action, execution_ids
from .contract import WAIT_EVACUATION, MistralError
from .nova import NovaUnavailable

LOG = logging.getLogger(__name__)


class _Evacuation(Action):
    def __init__(self, instance_id: str, incident_id: str, source_host: str,
                 original_vm_state: str | None = None, expected_vm_state: str | None = None,
                 accepted_at: str | None = None, attempt: int = 1) -> None:
        self.instance_id = instance_id
        self.incident_id = incident_id
        self.source_host = source_host
        self.original_vm_state = original_vm_state
        self.expected_vm_state = expected_vm_state
        self.accepted_at = accepted_at
        self.attempt = attempt


class WaitEvacuationAction(_Evacuation):
    """Registers the wait (RUNNING), checks Nova once, completes itself if already done."""

    def is_sync(self) -> bool:
        return False

    def run(self, context: Any) -> None:
        ids = execution_ids(context)
        rt = runtime.build()
        try:
            outcome = status.check(rt.nova, self.instance_id, self.source_host)
        except NovaUnavailable as exc:  # the listener or the polling fallback will tell
            LOG.warning("incident %s host %s execution %s instance %s: own check failed: %s",
                        self.incident_id, self.source_host, ids["workflow_execution_id"],
                        self.instance_id, exc)
            return
        if outcome is None or not ids["action_execution_id"]:
            return
        try:
            done = rt.mistral.complete(str(ids["action_execution_id"]), "SUCCESS",
                                       dict(outcome, via="check"))
        except MistralError as exc:  # the listener or the polling fallback will end it
            LOG.warning("incident %s host %s execution %s instance %s: could not complete "
                        "own wait: %s", self.incident_id, self.source_host,
                        ids["workflow_execution_id"], self.instance_id, exc)
            return
        LOG.info("incident %s host %s execution %s instance %s: already %s (completed: %s)",
                 self.incident_id, self.source_host, ids["workflow_execution_id"],
                 self.instance_id, outcome["result"], done)


class PollEvacuationAction(_Evacuation):
    """Ends the stale wait (Mistral leaves timed-out async actions RUNNING), then polls Nova
    every ``[recovery] poll_interval`` for at most ``poll_limit`` seconds."""

    def __init__(self, instance_id: str, incident_id: str, source_host: str,
                 original_vm_state: str | None = None, expected_vm_state: str | None = None,
                 accepted_at: str | None = None, attempt: int = 1) -> None:
        super().__init__(instance_id, incident_id, source_host, original_vm_state,
                         expected_vm_state, accepted_at, attempt)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        execution_id = execution_ids(context)["workflow_execution_id"]
        for action in rt.mistral.running_actions(WAIT_EVACUATION, instance_id=self.instance_id,
                                                 incident_id=self.incident_id):
            rt.mistral.complete(action["id"], "ERROR", {"result": "timeout", "via": "workflow"})
            LOG.info("incident %s host %s execution %s instance %s: ended stale wait %s",
                     self.incident_id, self.source_host, execution_id, self.instance_id,
                     action["id"])
        limit = float(rt.conf.recovery.poll_limit)
        deadline = time.monotonic() + limit
        while True:
            try:
                outcome = status.check(rt.nova, self.instance_id, self.source_host)
            except NovaUnavailable:
                outcome = None
            if outcome is not None:
                return dict(outcome, via="poll")
            if time.monotonic() >= deadline:
                LOG.warning("incident %s host %s execution %s instance %s: not confirmed "
                            "after polling %s s", self.incident_id, self.source_host,
                            execution_id, self.instance_id, limit)
                return {"result": "timeout", "host": None, "vm_state": None, "via": "poll",
                        "fault": f"not confirmed by notification or {limit:.0f} s polling"}
            time.sleep(rt.conf.recovery.poll_interval)
