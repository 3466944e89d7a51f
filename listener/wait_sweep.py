"""Close waits whose recovery has ended, so RUNNING-wait lookups stay small (issue 12).

A wait (contract.WAIT_EVACUATION, contract.AWAIT_APPROVAL) is an async action: only a PUT
ends it. When its task times out, or its workflow execution ends (a re-plan cancels a
sub-workflow, an operator ends a stuck incident), the action stays RUNNING for ever and Mistral
keeps every such row; each lookup of RUNNING waits then reads them all. Every [wait_sweep]
interval s the listener lists the RUNNING waits older than min_age (paginated, oldest first, at
most max_per_round) and closes (PUT state=ERROR) each one whose task or workflow execution has
ended. Mistral ignores the completion of an action whose task already completed, so the close
changes no recovery::

    WaitSweep(conf, mistral).start()     # the service does this; stop() on shutdown
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from listener.periodic import Periodic
from notifications.contract import ActionAlreadyCompleted, MistralNotFound

LOG = logging.getLogger(__name__)

__all__ = ["ENDED", "WaitSweep"]

ENDED = frozenset({"SUCCESS", "ERROR", "CANCELLED"})
_FIELDS = ["id", "name", "task_execution_id", "created_at"]


class Reads(Protocol):
    """What the sweep needs from listener.mistral_api.MistralAPI."""

    def list_action_executions(self, name: str, state: str | None = "RUNNING",
                               fields: Any = None, **filters: str) -> list[dict[str, Any]]: ...

    def get_task(self, task_execution_id: str) -> dict[str, Any]: ...

    def get_execution(self, execution_id: str) -> dict[str, Any]: ...

    def complete_action(self, action_execution_id: str, output: dict[str, Any],
                        state: str = "SUCCESS") -> dict[str, Any]: ...


def _created(row: dict[str, Any]) -> dt.datetime:
    """Mistral's ``created_at`` ("2025-03-01 12:00:00", UTC); the epoch when unreadable."""
    try:
        return dt.datetime.fromisoformat(str(row.get("created_at"))).replace(tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime.fromtimestamp(0, dt.UTC)


class WaitSweep:
    """The periodic sweep on a daemon thread (started and stopped by the service)."""

    def __init__(self, conf: cfg.ConfigOpts, mistral: Reads) -> None:
        opts = conf.wait_sweep
        self._mistral = mistral
        self._interval = float(opts.interval)
        self._min_age = dt.timedelta(seconds=float(opts.min_age))
        self._batch = int(opts.max_per_round)
        self._actions = list(opts.actions)
        self._periodic = Periodic("wait-sweep", self.round, self._interval)
        self.start, self.stop = self._periodic.start, self._periodic.stop

    def round(self, now: dt.datetime | None = None) -> list[str]:
        """One round; the ids of the waits it closed."""
        cutoff = (now or dt.datetime.now(dt.UTC)) - self._min_age
        waits = [w for name in self._actions
                 for w in self._mistral.list_action_executions(name, fields=_FIELDS)
                 if _created(w) <= cutoff]
        waits.sort(key=_created)
        workflows: dict[str, str] = {}  # workflow execution id -> state, read once a round
        closed = []
        for wait in waits[:self._batch]:
            ended = self._ended(wait, workflows)
            if ended and self._close(wait, ended):
                closed.append(str(wait["id"]))
        if closed:
            LOG.info("Closed %s stale wait(s) of %s checked", len(closed),
                     min(len(waits), self._batch))
        return closed

    def _ended(self, wait: dict[str, Any], workflows: dict[str, str]) -> str | None:
        """Why ``wait`` is stale ('task ERROR', 'execution X CANCELLED'), or None."""
        task_id = str(wait.get("task_execution_id") or "")
        if not task_id:
            return None  # an ad-hoc action: not a workflow's wait
        try:
            task = self._mistral.get_task(task_id)
        except MistralNotFound:
            return f"task {task_id} gone"
        if task.get("state") in ENDED:
            return f"task {task_id} {task.get('state')}"
        wf_id = str(task.get("workflow_execution_id") or "")
        if wf_id not in workflows:
            try:
                workflows[wf_id] = str(self._mistral.get_execution(wf_id).get("state"))
            except MistralNotFound:
                workflows[wf_id] = "DELETED"
        state = workflows[wf_id]
        return f"execution {wf_id} {state}" if state in ENDED | {"DELETED"} else None

    def _close(self, wait: dict[str, Any], why: str) -> bool:
        try:
            self._mistral.complete_action(
                str(wait["id"]), {"result": {"closed": f"stale wait: {why}"}}, state="ERROR")
        except ActionAlreadyCompleted:
            return False  # ended meanwhile (Nova's event, or the wait ended itself)
        LOG.info("Closed stale wait %s (%s, created %s): %s", wait["id"], wait.get("name"),
                 wait.get("created_at"), why)
        return True

