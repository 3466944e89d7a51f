"""On real Mistral: a wait left RUNNING by its task's timeout is closed by the listener's
sweep (state ERROR), the task and the execution keep their outcome, a live wait stays
RUNNING. Takes about 10 s with the session's Mistral up."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from oslo_config import cfg

from harness.mistral import MistralServer
from listener.conf import wait_sweep as wait_sweep_conf
from listener.mistral_api import MistralAPI
from listener.wait_sweep import WaitSweep
from tests.waiting import wait_for

pytestmark = [pytest.mark.mistral]

WORKFLOW = """---
version: '2.0'
test_wait_sweep.{name}:
  tasks:
    wait:
      action: std.async_noop
      timeout: {timeout}
"""


def start(api_url: str, name: str, timeout: int) -> str:
    resp = requests.post(f"{api_url}/workflows", data=WORKFLOW.format(name=name, timeout=timeout),
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert resp.status_code in (201, 409), resp.text
    resp = requests.post(f"{api_url}/executions", timeout=30,
                         json={"workflow_name": f"test_wait_sweep.{name}"})
    resp.raise_for_status()
    return str(resp.json()["id"])


def state_of(api: MistralAPI, execution_id: str) -> tuple[str, str, str]:
    """(execution, task, action) states of a one-task execution."""
    (task,) = api.list_tasks(workflow_execution_id=execution_id)
    actions = api.list_task_action_executions(str(task["id"]))
    return (str(api.get_execution(execution_id)["state"]), str(task["state"]),
            str(actions[0]["state"]) if actions else "none")


def test_a_wait_left_running_by_a_task_timeout_is_closed(mistral: MistralServer,
                                                          tmp_path: Path) -> None:
    api = MistralAPI.from_url(mistral.api_url)
    timed_out = start(mistral.api_url, "timed_out", 1)
    live = start(mistral.api_url, "live", 600)
    wait_for(lambda: state_of(api, timed_out) == ("ERROR", "ERROR", "RUNNING"), 60,
             "the task timed out, its action left RUNNING")
    wait_for(lambda: state_of(api, live)[2] == "RUNNING", 60, "the live wait runs")
    conf = cfg.ConfigOpts()
    wait_sweep_conf.register_opts(conf)
    conf([])
    conf.set_override("min_age", 0, group="wait_sweep")
    conf.set_override("actions", ["std.async_noop"], group="wait_sweep")
    closed = WaitSweep(conf, api).round()
    (task,) = api.list_tasks(workflow_execution_id=timed_out)
    (action,) = api.list_task_action_executions(str(task["id"]))
    assert str(action["id"]) in closed
    assert state_of(api, timed_out) == ("ERROR", "ERROR", "ERROR")
    assert state_of(api, live) == ("RUNNING", "RUNNING", "RUNNING")
    assert WaitSweep(conf, api).round() == []  # nothing left to close
    (task,) = api.list_tasks(workflow_execution_id=live)
    (action,) = api.list_task_action_executions(str(task["id"]))
    api.complete_action(str(action["id"]), {"result": "done"})  # leaves nothing running
