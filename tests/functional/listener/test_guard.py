"""The mass-failure guard with the real workflow: two listeners race, the incidents beyond
the limit are held, approve and discard decide exactly the chosen ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from listener.cmd import operator
from tests.functional.listener import support
from tests.functional.workflow.support import upload_workflows, write_actions_config
from workflows import definition

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral, pytest.mark.slow]


def _held(api: str) -> dict[str, dict[str, Any]]:
    resp = requests.get(f"{api}/action_executions", timeout=30, params={
        "name": "host_recovery.await_approval", "state": "RUNNING"})
    resp.raise_for_status()
    held = {}
    for action in resp.json()["action_executions"]:
        action_input = json.loads(action["input"])
        held[action_input["incident_id"]] = action
    return held


def _gate(api: str, execution_id: str) -> dict[str, Any] | None:
    resp = requests.get(f"{api}/executions/{execution_id}/tasks", timeout=30)
    if resp.status_code != 200:
        return None  # not started yet
    for task in resp.json()["tasks"]:
        if task["name"] == "gate" and task["state"] == "SUCCESS":
            result: dict[str, Any] = json.loads(task["published"])["gate"]
            return result
    return None


def test_guard_holds_beyond_the_limit_and_operators_decide(
        rabbit_url: str, own_mistral: MistralServer, tmp_path: Path,
        simulator_process_factory: Callable[..., SimulatorProcess]) -> None:
    api = own_mistral.api_url
    sim = simulator_process_factory({"hosts": 6, "vms_per_host": 1}, rabbit_url)
    assert own_mistral.actions_config is not None
    write_actions_config(own_mistral.actions_config, own_mistral, sim,
                         guard={"max_hosts": 2, "max_fraction": 1.0, "window": 600})
    upload_workflows(api)
    workflow_file = tmp_path / "wf.yaml"
    workflow_file.write_text(definition())
    listeners = [support.ListenerProcess(tmp_path, f"g-{i}", rabbit_url, api, workflow_file)
                 for i in range(2)]
    for listener in listeners:
        listener.start()
    hosts = [f"compute{n}" for n in range(1, 6)]
    incidents = {host: support.incident_id_for(host, "manual@guard") for host in hosts}
    config = listeners[0].config
    try:
        support.send(support.publisher(rabbit_url),
                     [support.payload(host, iid) for host, iid in incidents.items()] * 2)
        def all_gates() -> dict[str, Any] | None:
            gates = {h: _gate(api, iid) for h, iid in incidents.items()}
            return gates if all(gates.values()) else None

        def held_count(n: int) -> Callable[[], dict[str, dict[str, Any]] | None]:
            return lambda: (held if len(held := _held(api)) == n else None)

        def ended(iid: str) -> dict[str, Any] | None:
            execution: dict[str, Any] = requests.get(f"{api}/executions/{iid}",
                                                     timeout=30).json()
            return execution if execution["state"] == "SUCCESS" else None

        gates = support.wait_for(all_gates, 120, "every gate decided")
        held = support.wait_for(held_count(3), 60, "3 held incidents")
        decisions = {h: gates[h]["decision"] for h in hosts}
        assert sorted(decisions.values()) == ["hold", "hold", "hold", "proceed", "proceed"]
        held_hosts = [h for h in hosts if decisions[h] == "hold"]
        assert set(held) == {incidents[h] for h in held_hosts}
        assert sorted(gates[h]["rank"] for h in held_hosts) == [3, 4, 5]

        approve_host, discard_host, keep_host = held_hosts
        assert operator.main(["--config-file", str(config), "approve", approve_host,
                              "--by", "test-op"]) == 0
        assert operator.main(["--config-file", str(config), "discard",
                              incidents[discard_host], "--by", "test-op"]) == 0
        assert operator.main(["--config-file", str(config), "approve",
                              "no-such-host"]) == 1
        remaining = support.wait_for(held_count(1), 30, "one left held")
        discarded = support.wait_for(lambda: ended(incidents[discard_host]), 60,
                                     "the discarded incident to end")
        approved_tasks = support.wait_for(
            lambda: {t["name"] for t in requests.get(
                f"{api}/executions/{incidents[approve_host]}/tasks",
                timeout=30).json()["tasks"]} & {"fence"}, 60, "the approved one to fence")
    finally:
        for listener in listeners:
            listener.terminate()
    assert set(remaining) == {incidents[keep_host]}
    assert json.loads(discarded["output"])["outcome"] == "discarded"
    assert approved_tasks == {"fence"}
    assert len(support.executions_for(api, set(incidents.values()))) == 5
