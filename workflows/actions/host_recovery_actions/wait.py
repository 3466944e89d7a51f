"""``host_recovery.wait_evacuation`` (evacuates, then waits: async, completed by the listener
from Nova's notifications) and ``host_recovery.poll_evacuation`` (the bounded polling
fallback).

Input: contract.WaitInput, plus the VM to evacuate (``instance``, ``target_host``,
``on_shared_storage``, ``source``, ``prepared``). The wait exists (RUNNING) before Nova is
asked to evacuate, so Nova's ``rebuild.end`` always finds it, and one Mistral task per VM does
what an evacuate task and a wait task did (issue 13, docs/design.md §10). Ends synchronously
when there is nothing to wait for (``refused``, ``host_returned``, ``no_room``, already
``evacuated``); else the listener completes it (PUT /v2/action_executions/<id>), output a
contract.WaitOutput::

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
from .instance import EvacuateAction
from .nova import NovaUnavailable

LOG = logging.getLogger(__name__)
# evacuate statuses that end the wait at once: Nova was not asked, or refused
_NOTHING_TO_WAIT_FOR = ("refused", "host_returned", "no_room")


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
    """Registers the wait (RUNNING), evacuates (when given the ``instance``), and ends itself
    when there is nothing to wait for; without ``instance`` it checks Nova once instead.

    Mistral creates it async (``is_sync()`` is False until ``run()`` decides otherwise; the
    executor asks again after ``run()``), so Mistral's action heartbeat does not cover it:
    an executor lost before Nova accepted leaves it RUNNING until the task's timeout, and
    the polling fallback then reports ``not_started`` (the workflow evacuates again).
    """

    def __init__(self, instance_id: str, incident_id: str, source_host: str,
                 original_vm_state: str | None = None, expected_vm_state: str | None = None,
                 accepted_at: str | None = None, attempt: int = 1,
                 instance: dict[str, Any] | None = None, target_host: str | None = None,
                 on_shared_storage: bool = False, source: dict[str, Any] | None = None,
                 prepared: dict[str, Any] | None = None) -> None:
        super().__init__(instance_id, incident_id, source_host, original_vm_state,
                         expected_vm_state, accepted_at, attempt)
        # plain data only: Mistral sends the action's attributes to the executor as JSON
        self.instance = instance
        self.evacuate_input: dict[str, Any] = {"target_host": target_host,
                               "on_shared_storage": on_shared_storage, "source": source,
                               "prepared": prepared}
        self._sync = False

    def is_sync(self) -> bool:
        return self._sync

    def run(self, context: Any) -> dict[str, Any] | None:
        if self.instance is None:
            self._check(context)
            return None
        # Nova unavailable raises: the task errs, the polling fallback reads what Nova did
        evacuation = EvacuateAction(self.incident_id, self.instance, self.source_host,
                                    attempt=self.attempt, prepare=True,
                                    **self.evacuate_input).run(context)
        if evacuation["status"] in _NOTHING_TO_WAIT_FOR:
            return self._end(dict(evacuation, result=evacuation["status"], host=None,
                                  vm_state=None, fault=evacuation.get("reason"),
                                  via="evacuate"))
        if evacuation["status"] == "moved":  # an earlier run's evacuation already ended
            outcome = status.check(runtime.build().nova, self.instance_id, self.source_host)
            if outcome is not None:
                return self._end(dict(evacuation, **outcome, via="check"))
        return None  # accepted or in progress: Nova's notification ends it (the listener)

    def _end(self, result: dict[str, Any]) -> dict[str, Any]:
        """Complete synchronously: the executor sends ``result`` as this action's output."""
        self._sync = True
        return result

    def _check(self, context: Any) -> None:
        """Nova may already have finished: complete the wait through Mistral's API."""
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
        first = True
        while True:
            try:
                # the first read also tells an evacuation that never started (lost with its
                # executor): the workflow evacuates again at once, not after the limit
                outcome = status.check(rt.nova, self.instance_id, self.source_host,
                                       expect_started=first)
                first = False
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
