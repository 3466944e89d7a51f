"""The tasks that override the workflow's default retry never retry, on real Mistral 23: the
approval and the wait for Nova (async; an error goes on to the report or to polling, a retry
would start a second one) and ``recover`` (a retry would re-run its instance workflows).
Each is made to fail once; its task then ran its action or workflow exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from notifications import contract
from tests.functional.workflow import support
from tests.waiting import wait_for

pytestmark = pytest.mark.mistral

PREFIX = "noretry"
HOST = f"{PREFIX}1"


@pytest.fixture
def cloud(simulator_process_factory: Callable[..., SimulatorProcess],
          rabbit_url: str) -> SimulatorProcess:
    # own seed and prefix: server ids no other test's simulator has (shared Mistral)
    return simulator_process_factory({
        "seed": 7301, "host_prefix": PREFIX, "hosts": 3, "vms_per_host": 1,
        "host_vcpus": 1024, "host_ram_mb": 4_000_000, "states": {"active": 1.0},
        "metadata": [{"weight": 1.0, "metadata": {}}], "server_groups": [],
        # Nova takes 4 s: the wait's own check on start must find the evacuation still
        # running, so the test (not the action) is the one that ends the wait
        "aggregates": [], "latency": {"kind": "fixed", "value": 4.0},
        "power_latency": {"kind": "fixed", "value": 0.05}}, rabbit_url)


def _get(api: str, path: str) -> Any:
    resp = requests.get(f"{api}{path}", timeout=30)
    assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text}"
    return resp.json()


def _tasks(api: str, execution_id: str, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        t for t in _get(api, f"/executions/{execution_id}/tasks")["tasks"]
        if t["name"] == name]
    return found


def _running(api: str, action: str, incident: str) -> dict[str, Any] | None:
    """The incident's RUNNING action execution named ``action``, if any."""
    listed = requests.get(f"{api}/action_executions", timeout=30,
                          params={"name": action, "state": "RUNNING"}).json()
    for execution in listed.get("action_executions", []):
        given = execution["input"]
        given = json.loads(given) if isinstance(given, str) else given
        if given.get("incident_id") == incident:
            return dict(execution)
    return None


def _fail_action(api: str, action_id: str) -> int:
    """End a RUNNING async action with ERROR, as a timeout or an operator would."""
    return requests.put(f"{api}/action_executions/{action_id}", timeout=30, json={
        "state": "ERROR", "output": {"error": "failed by the test"}}).status_code


def _start(mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path,
           **groups: dict[str, Any]) -> str:
    assert mistral.actions_config is not None
    support.write_actions_config(
        mistral.actions_config, mistral, cloud,
        policy={"host_policy_file": tmp_path / "none.yaml"}, **groups)
    support.upload_workflows(mistral.api_url)
    cloud.control.fail_host(HOST, immediate=True)
    return support.start_recovery(mistral.api_url, HOST)


def test_a_failed_approval_is_not_retried_and_the_incident_is_discarded(
        mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path) -> None:
    api = mistral.api_url
    incident = _start(mistral, cloud, tmp_path, guard={"max_hosts": 0})  # hold every host
    held = wait_for(lambda: _running(api, contract.AWAIT_APPROVAL, incident), 60,
                    "the approval wait")
    assert _fail_action(api, held["id"]) == 200
    execution = support.wait_execution(api, incident, timeout=60)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    assert execution["output"]["outcome"] == "discarded"
    assert execution["output"]["reason"].startswith(
        "discarded by approval timeout (held: mass failure"), execution["output"]["reason"]
    [task] = _tasks(api, incident, contract.TASK_AWAIT_APPROVAL)
    assert task["state"] == "ERROR"
    actions = _get(api, f"/tasks/{task['id']}/action_executions")["action_executions"]
    assert [a["id"] for a in actions] == [held["id"]]


def test_a_failed_wait_is_not_retried_and_polling_finds_the_evacuation(
        mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path) -> None:
    api = mistral.api_url
    incident = _start(mistral, cloud, tmp_path, guard={"max_hosts": 100})
    waiting = wait_for(lambda: _running(api, contract.WAIT_EVACUATION, incident), 60,
                       "the wait for Nova")
    assert _fail_action(api, waiting["id"]) == 200
    execution = support.wait_execution(api, incident, timeout=60)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    assert execution["output"]["outcome"] == "done", execution["output"]["reason"]
    [recover] = _tasks(api, incident, contract.TASK_RECOVER)
    [instance] = _get(api, f"/tasks/{recover['id']}/workflow_executions")["executions"]
    [wait] = _tasks(api, instance["id"], contract.TASK_WAIT)
    assert wait["state"] == "ERROR"
    actions = _get(api, f"/tasks/{wait['id']}/action_executions")["action_executions"]
    assert [a["id"] for a in actions] == [waiting["id"]]
    assert [t["state"] for t in _tasks(api, instance["id"], contract.TASK_POLL)] == ["SUCCESS"]


def test_a_failed_instance_workflow_is_not_rerun_by_a_retry(
        mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path) -> None:
    api = mistral.api_url
    # no re-plan: the recover task's error goes straight to the report
    incident = _start(mistral, cloud, tmp_path, guard={"max_hosts": 100},
                      recovery={"replan_attempts": 0})
    waiting = wait_for(lambda: _running(api, contract.WAIT_EVACUATION, incident), 60,
                       "the wait for Nova")
    [recover] = _tasks(api, incident, contract.TASK_RECOVER)
    [instance] = _get(api, f"/tasks/{recover['id']}/workflow_executions")["executions"]
    try:
        resp = requests.put(f"{api}/executions/{instance['id']}", json={"state": "ERROR"},
                            timeout=30)
        assert resp.status_code == 200, resp.text
        execution = support.wait_execution(api, incident, timeout=60)
    finally:  # the stopped instance workflow's wait: end it for the other tests
        _fail_action(api, waiting["id"])
    assert execution["state"] == "ERROR"
    assert execution["output"]["outcome"] == "failed"
    assert execution["output"]["summary"]["failed"] == 1
    [recover] = _tasks(api, incident, contract.TASK_RECOVER)
    assert recover["state"] == "ERROR"
    runs = _get(api, f"/tasks/{recover['id']}/workflow_executions")["executions"]
    assert [r["id"] for r in runs] == [instance["id"]]
