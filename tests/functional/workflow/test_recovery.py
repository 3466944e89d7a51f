"""The recovery workflow on the real parts: Mistral 23 over RabbitMQ, our action pack, and
the Nova + Keystone simulator (a separate process)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from tests.functional.workflow import support

HOST = "compute1"
STATES = {"active": 0.4, "stopped": 0.2, "error": 0.1, "paused": 0.06, "suspended": 0.06,
          "rescued": 0.06, "resized": 0.06, "shelved": 0.06}
METADATA = [
    {"weight": 0.5, "metadata": {}},
    {"weight": 0.15, "metadata": {"HA_Enabled": "False"}},
    {"weight": 0.15, "metadata": {"host_recovery:enabled": "false"}},
    {"weight": 0.2, "metadata": {"host_recovery:priority": "10", "HA_Enabled": "True"}},
]


def scenario(**extra: Any) -> dict[str, Any]:
    base = {"hosts": 4, "vms_per_host": 40, "host_vcpus": 4096, "host_ram_mb": 10_000_000,
            "states": STATES, "metadata": METADATA, "server_groups": [],
            "latency": {"kind": "uniform", "low": 0.2, "high": 0.5},
            "power_latency": {"kind": "fixed", "value": 0.05}}
    base.update(extra)
    return base


@pytest.fixture
def cloud(simulator_process_factory: Callable[..., SimulatorProcess],
          rabbit_url: str) -> SimulatorProcess:
    return simulator_process_factory(scenario(), rabbit_url)


def _disabled(server: dict[str, Any]) -> bool:
    meta = server.get("metadata") or {}
    return meta.get("HA_Enabled") == "False" or meta.get("host_recovery:enabled") == "false"


def _expect(server: dict[str, Any], error_vms: str, other_states: str,
            user_locked: str) -> str | None:
    """The state the VM must end in after recovery, or None when it must be skipped."""
    state = server["OS-EXT-STS:vm_state"]
    if _disabled(server):
        return None
    if server.get("locked") and user_locked == "skip":
        return None
    if state in ("active", "stopped"):
        return str(state)
    if state == "error":
        return "active" if error_vms == "reset" else None
    return "active" if other_states == "reset" else None


@pytest.mark.mistral
@pytest.mark.parametrize("version,error_vms,other_states,user_locked", [
    ("2.95", "reset", "skip", "evacuate"),
    ("2.53", "skip", "reset", "skip"),
])
def test_a_host_of_40_vms_recovers_exactly_the_expected_set(
        mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path, version: str,
        error_vms: str, other_states: str, user_locked: str) -> None:
    support.write_actions_config(
        mistral.actions_config, mistral, cloud, nova={"api_version": version},
        policy={"error_vms": error_vms, "other_states": other_states,
                "user_locked": user_locked, "host_policy_file": tmp_path / "none.yaml"})
    support.upload_workflows(mistral.api_url)
    nova = support.Nova(cloud)
    before = {s["id"]: s for s in nova.servers(HOST)}
    assert len(before) == 40
    user_locked_ids = [s["id"] for s in before.values()
                       if s["OS-EXT-STS:vm_state"] in ("active", "stopped")][:3]
    for server_id in user_locked_ids:
        nova.action(server_id, {"lock": {"locked_reason": "user maintenance"}})
        before[server_id] = nova.server(server_id)
    cloud.control.fail_host(HOST, immediate=True)

    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, HOST)
        execution = support.wait_execution(mistral.api_url, incident, timeout=150)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    output = execution["output"]
    assert output["outcome"] == "done", output["reason"]
    records = {r["id"]: r for r in output["instances"]}
    assert set(records) == set(before)
    expected = {i: _expect(s, error_vms, other_states, user_locked) for i, s in before.items()}
    evacuations = nova.evacuations()
    for server_id, wanted in expected.items():
        record, now = records[server_id], nova.server(server_id)
        if wanted is None:
            assert record["result"] == "skipped" and record["reason"], record
            assert now["OS-EXT-SRV-ATTR:host"] == HOST
            assert server_id not in evacuations
            continue
        assert record["result"] == "evacuated", record
        assert now["OS-EXT-SRV-ATTR:host"] not in (HOST, None)
        assert record["dest_host"] == now["OS-EXT-SRV-ATTR:host"]
        assert now["OS-EXT-STS:vm_state"] == wanted, (record, now)
        assert evacuations.get(server_id) == 1, server_id
        if server_id in user_locked_ids:
            assert now["locked"] and now["locked_reason"] == "user maintenance"
        else:
            assert not now["locked"], now
    assert output["summary"]["evacuated"] == sum(1 for w in expected.values() if w)
    assert output["microversion"] == version


@pytest.mark.mistral
def test_a_live_host_is_refused(mistral: MistralServer, cloud: SimulatorProcess,
                                tmp_path: Path) -> None:
    support.write_actions_config(mistral.actions_config, mistral, cloud)
    support.upload_workflows(mistral.api_url)
    incident = support.start_recovery(mistral.api_url, HOST, fencing_confirmed=False)
    execution = support.wait_execution(mistral.api_url, incident, timeout=60)
    assert execution["state"] == "ERROR"
    assert execution["output"]["outcome"] == "refused"
    assert "is up and fencing is not confirmed" in execution["output"]["reason"]
    assert support.Nova(cloud).evacuations() == {}


@pytest.mark.mistral
def test_rebuild_errors_and_no_valid_host_are_retried_then_fail_with_reasons(
        mistral: MistralServer, cloud: SimulatorProcess) -> None:
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 recovery={"max_attempts": 2, "wait_timeout": 30})
    support.upload_workflows(mistral.api_url)
    nova = support.Nova(cloud)
    cloud.control.set_faults(rebuild_error=0.5, no_valid_host=0.5)
    cloud.control.fail_host(HOST, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, HOST)
        execution = support.wait_execution(mistral.api_url, incident, timeout=150)
    output = execution["output"]
    failed = [r for r in output["instances"] if r["result"] == "failed"]
    assert failed, "with 75 % of attempts failing some VM fails twice"
    assert execution["state"] == "ERROR" and output["outcome"] == "failed"
    evacuations = nova.evacuations()
    for record in failed:
        assert record["attempts"] == 2
        assert evacuations[record["id"]] == 2
        assert "Virtual Interface creation failed" in record["reason"] \
            or "No valid host" in record["reason"], record
    retried = [r for r in output["instances"] if r["result"] == "evacuated"
               and evacuations[r["id"]] == 2]
    assert retried, "some VM succeeded on its second attempt"


@pytest.mark.mistral
def test_an_action_rerun_never_evacuates_twice(mistral: MistralServer,
                                               cloud: SimulatorProcess) -> None:
    """The evacuate action run again (as a retry after a crash would) for VMs already
    rebuilding or moved answers in_progress / moved without a second evacuate."""
    support.write_actions_config(mistral.actions_config, mistral, cloud)
    nova = support.Nova(cloud)
    cloud.control.fail_host(HOST, immediate=True)
    vm = next(s for s in nova.servers(HOST) if s["OS-EXT-STS:vm_state"] == "active")
    instance = {"id": vm["id"], "name": vm["name"], "original_state": "active"}
    statuses = []
    for _ in range(3):
        resp = requests.post(f"{mistral.api_url}/action_executions", timeout=60, json={
            "name": "host_recovery.evacuate", "input": {
                "incident_id": "rerun-test", "instance": instance, "source_host": HOST}})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["state"] == "SUCCESS", body
        statuses.append(__import__("json").loads(body["output"])["result"]["status"])
    assert statuses[0] == "accepted"
    assert set(statuses[1:]) <= {"in_progress", "moved"}
    cloud.control.wait(lambda: nova.server(vm["id"])["OS-EXT-SRV-ATTR:host"] != HOST, 30,
                       "the evacuation to end")
    again = requests.post(f"{mistral.api_url}/action_executions", timeout=60, json={
        "name": "host_recovery.evacuate", "input": {
            "incident_id": "rerun-test", "instance": instance, "source_host": HOST}}).json()
    assert '"moved"' in again["output"]
    assert nova.evacuations() == {vm["id"]: 1}


@pytest.mark.mistral
def test_an_evacuate_lost_before_nova_accepted_is_sent_again_and_not_counted(
        mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path) -> None:
    """The wait evacuates, so a start that never reached Nova (here Nova's API answers the
    first three evacuates 500 before accepting them; a lost executor leaves the same VM) is
    found by the polling fallback (not_started) and evacuated again at once: every VM once,
    each on its first counted attempt."""
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 policy={"host_policy_file": tmp_path / "none.yaml"})
    support.upload_workflows(mistral.api_url)
    nova = support.Nova(cloud)
    cloud.control.set_faults(evacuate_5xx=3)
    cloud.control.fail_host(HOST, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, HOST)
        execution = support.wait_execution(mistral.api_url, incident, timeout=150)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    assert cloud.control.set_faults()["evacuate_5xx"] == 0  # all three were refused
    evacuated = [r for r in execution["output"]["instances"] if r["result"] == "evacuated"]
    assert evacuated and all(r["attempts"] == 1 for r in evacuated), evacuated
    assert nova.evacuations() == {r["id"]: 1 for r in evacuated}


@pytest.mark.mistral
def test_mistral_killed_mid_recovery_still_recovers_every_vm_exactly_once(
        own_mistral: MistralServer,
        simulator_process_factory: Callable[..., SimulatorProcess], rabbit_url: str) -> None:
    cloud = simulator_process_factory(scenario(
        vms_per_host=12, states={"active": 0.7, "stopped": 0.3},
        metadata=[{"weight": 1.0, "metadata": {}}],
        latency={"kind": "uniform", "low": 1.0, "high": 2.5}), rabbit_url)
    # No listener here: the waits end through their own check or the polling fallback.
    support.write_actions_config(own_mistral.actions_config, own_mistral, cloud,
                                 recovery={"wait_timeout": 4, "concurrency": 6,
                                           "instance_timeout": 10})
    support.upload_workflows(own_mistral.api_url)
    nova = support.Nova(cloud)
    before = {s["id"]: s["OS-EXT-STS:vm_state"] for s in nova.servers(HOST)}
    cloud.control.fail_host(HOST, immediate=True)
    incident = support.start_recovery(own_mistral.api_url, HOST)
    cloud.control.wait(lambda: 2 <= len(nova.evacuations()) < len(before), 60,
                       "the recovery to be under way")
    own_mistral.kill()
    own_mistral.start()
    # The first execution must finish the job by itself: a task Mistral 23 left IDLE makes
    # the recover step time out, and the workflow re-plans the VMs without a result.
    execution = support.wait_execution(own_mistral.api_url, incident, timeout=240)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    output = execution["output"]
    assert output["summary"]["evacuated"] == len(before), output["summary"]
    records = {r["id"]: r for r in output["instances"]}
    assert set(records) == set(before)
    assert all(r["result"] == "evacuated" and r["attempts"] == 1 for r in records.values())
    assert nova.evacuations() == {server_id: 1 for server_id in before}
    for server_id, state in before.items():
        now = nova.server(server_id)
        assert now["OS-EXT-SRV-ATTR:host"] != HOST
        assert now["OS-EXT-STS:vm_state"] == state
        assert not now["locked"]
    # An operator's re-run (attempt 2) still works: nothing left on the host, nothing moved.
    rerun = support.start_recovery(own_mistral.api_url, HOST,
                                   execution_id=incident[:30] + "-rerun", attempt=2,
                                   incident_id=incident)
    again = support.wait_execution(own_mistral.api_url, rerun, timeout=120)
    assert again["state"] == "SUCCESS", again.get("state_info")
    assert again["output"]["summary"]["evacuated"] == 0
    assert nova.evacuations() == {server_id: 1 for server_id in before}
