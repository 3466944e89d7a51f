"""Never evacuate a live host (issue 11), on the real parts: Mistral 23 over RabbitMQ, our
action pack and the Nova simulator. Evacuations are counted in the simulator's request log."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from tests.functional.workflow import support

HOST = "compute1"
VMS = 4


def scenario(aggregates: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"hosts": 2, "vms_per_host": VMS, "host_vcpus": 4096, "host_ram_mb": 10_000_000,
            "states": {"active": 1.0}, "metadata": [{"weight": 1.0, "metadata": {}}],
            "server_groups": [], "aggregates": aggregates or [],
            "latency": {"kind": "fixed", "value": 0.1},
            "power_latency": {"kind": "fixed", "value": 0.02}}


def task_result(api: str, execution_id: str, name: str) -> dict[str, Any]:
    """What task ``name`` (fence, plan) published under its own name (Mistral's API is the
    only way to see it)."""
    tasks = requests.get(f"{api}/executions/{execution_id}/tasks", timeout=10).json()["tasks"]
    task = next(t for t in tasks if t["name"] == name)
    result: dict[str, Any] = json.loads(task.get("published") or "{}")[name]
    return result


def evacuate_requests(cloud: SimulatorProcess) -> list[dict[str, Any]]:
    return cloud.control.server_actions("evacuate")


def configure(mistral: MistralServer, cloud: SimulatorProcess, policy_file: Path) -> None:
    assert mistral.actions_config is not None
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 policy={"host_policy_file": policy_file},
                                 recovery={"poll_interval": 0.2})
    support.upload_workflows(mistral.api_url)


@pytest.mark.mistral
def test_an_unfenced_host_down_in_nova_is_not_evacuated_by_default(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud = simulator_process_factory(scenario(), rabbit_url)
    configure(mistral, cloud, tmp_path / "none.yaml")
    cloud.control.fail_host(HOST, immediate=True)  # "down" in Nova: missed heartbeats only
    incident = support.start_recovery(mistral.api_url, HOST, fencing_confirmed=False)
    execution = support.wait_execution(mistral.api_url, incident, timeout=60)
    assert execution["state"] == "ERROR"
    assert "not fenced" in execution["output"]["reason"]
    assert evacuate_requests(cloud) == []
    fence = task_result(mistral.api_url, incident, "fence")
    assert (fence["outcome"], fence["evidence"], fence["forced_down"]) == (
        "not_fenced", None, False)


@pytest.mark.mistral
def test_an_unfenced_host_recovers_when_its_policy_opts_in_and_it_stays_down(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud = simulator_process_factory(scenario(), rabbit_url)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"hosts:\n  - match: '{HOST}'\n    unfenced_recovery: allow\n"
                           "    require_down_for: 2\n")
    configure(mistral, cloud, policy_file)
    cloud.control.fail_host(HOST, immediate=True)
    nova = support.Nova(cloud)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, HOST, fencing_confirmed=False)
        execution = support.wait_execution(mistral.api_url, incident, timeout=90)
    assert execution["state"] == "SUCCESS", execution["output"]
    assert execution["output"]["outcome"] == "done"
    assert len(evacuate_requests(cloud)) == VMS
    fence = task_result(mistral.api_url, incident, "fence")
    assert fence["evidence"] == "unfenced_opt_in" and not fence["forced_down"]
    assert "UNFENCED" in fence["reason"] and "host-policy:compute1" in fence["reason"]


@pytest.mark.mistral
def test_a_bad_aggregate_value_is_a_warning_and_the_incident_proceeds(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    bad = [{"name": "rack-7", "hosts": "all",
            "metadata": {"host_recovery:max_concurrency": "ten"}}]
    cloud = simulator_process_factory(scenario(bad), rabbit_url)
    configure(mistral, cloud, tmp_path / "none.yaml")
    cloud.control.fail_host(HOST, immediate=True)
    nova = support.Nova(cloud)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, HOST)  # v1 confirmed reporter
        execution = support.wait_execution(mistral.api_url, incident, timeout=90)
    assert execution["state"] == "SUCCESS", execution["output"]
    assert execution["output"]["summary"]["evacuated"] == VMS
    plan = task_result(mistral.api_url, incident, "plan")
    warning = "aggregate rack-7: host_recovery:max_concurrency=ten is not an integer (ignored)"
    assert warning in plan["host_policy"]["warnings"]
    assert plan["concurrency"] == 10  # the [recovery] default, not a crash
