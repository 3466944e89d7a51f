"""WaitSweep closes waits whose task or workflow execution ended, and only those."""

from __future__ import annotations

import datetime as dt
from typing import Any

from oslo_config import cfg

from listener.conf import wait_sweep as wait_sweep_conf
from listener.wait_sweep import WaitSweep
from notifications.contract import (
    AWAIT_APPROVAL,
    WAIT_EVACUATION,
    ActionAlreadyCompleted,
    MistralNotFound,
)

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
OLD, YOUNG = "2026-01-01 11:00:00", "2026-01-01 11:59:00"


class FakeMistral:
    def __init__(self) -> None:
        self.waits: dict[str, list[dict[str, Any]]] = {WAIT_EVACUATION: [], AWAIT_APPROVAL: []}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.executions = {"wf-run": "RUNNING", "wf-done": "SUCCESS", "wf-cancelled": "CANCELLED"}
        self.closed: list[tuple[str, str]] = []
        self.already: set[str] = set()
        self.execution_reads = 0

    def wait(self, wid: str, task_state: str, wf: str, created: str = OLD,
             name: str = WAIT_EVACUATION) -> None:
        self.waits[name].append({"id": wid, "name": name, "task_execution_id": f"t-{wid}",
                                 "created_at": created})
        self.tasks[f"t-{wid}"] = {"id": f"t-{wid}", "state": task_state,
                                  "workflow_execution_id": wf}

    def list_action_executions(self, name: str, state: str | None = "RUNNING",
                               fields: Any = None, **filters: str) -> list[dict[str, Any]]:
        assert state == "RUNNING"
        return list(self.waits[name])

    def get_task(self, task_execution_id: str) -> dict[str, Any]:
        if task_execution_id not in self.tasks:
            raise MistralNotFound(task_execution_id)
        return self.tasks[task_execution_id]

    def get_execution(self, execution_id: str) -> dict[str, Any]:
        self.execution_reads += 1
        if execution_id not in self.executions:
            raise MistralNotFound(execution_id)
        return {"id": execution_id, "state": self.executions[execution_id]}

    def complete_action(self, action_execution_id: str, output: dict[str, Any],
                        state: str = "SUCCESS") -> dict[str, Any]:
        if action_execution_id in self.already:
            raise ActionAlreadyCompleted(action_execution_id)
        self.closed.append((action_execution_id, state))
        return {}


def sweep(mistral: FakeMistral, batch: int = 100) -> WaitSweep:
    conf = cfg.ConfigOpts()
    wait_sweep_conf.register_opts(conf)
    conf([])
    conf.set_override("min_age", 600, group="wait_sweep")
    conf.set_override("max_per_round", batch, group="wait_sweep")
    return WaitSweep(conf, mistral)


def test_closes_waits_of_ended_tasks_and_executions_only() -> None:
    api = FakeMistral()
    api.wait("live", "RUNNING", "wf-run")
    api.wait("timed-out", "ERROR", "wf-run")
    api.wait("done", "RUNNING", "wf-done")
    api.wait("cancelled", "RUNNING", "wf-cancelled")
    api.wait("deleted", "RUNNING", "wf-gone")
    api.wait("young", "ERROR", "wf-done", created=YOUNG)
    api.wait("approval", "ERROR", "wf-done", name=AWAIT_APPROVAL)
    api.waits[WAIT_EVACUATION].append({"id": "orphan", "task_execution_id": "t-missing",
                                       "created_at": OLD})
    closed = sweep(api).round(now=NOW)
    assert sorted(closed) == ["approval", "cancelled", "deleted", "done", "orphan",
                              "timed-out"]
    assert {state for _id, state in api.closed} == {"ERROR"}


def test_oldest_first_bounded_and_one_read_per_execution() -> None:
    api = FakeMistral()
    for n in range(5):
        api.wait(f"w{n}", "RUNNING", "wf-done", created=f"2026-01-01 10:0{5 - n}:00")
    closed = sweep(api, batch=3).round(now=NOW)
    assert closed == ["w4", "w3", "w2"]
    assert api.execution_reads == 1


def test_a_wait_completed_meanwhile_is_not_counted() -> None:
    api = FakeMistral()
    api.wait("raced", "ERROR", "wf-run")
    api.already.add("raced")
    assert sweep(api).round(now=NOW) == []
