"""Instance-level policy on the real parts (Mistral 23 over RabbitMQ, our action pack, the
simulator process): VM states and task states per the [policy] options, metadata and tag
opt-in/opt-out, priority order, user-locked VMs. Each VM is put into its state through the
simulator's control API; the evacuate requests Nova received are read from its request log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from tests.functional.workflow import support


@dataclass
class Case:
    """One VM: the fields to set, and what recovery must do with it."""

    label: str
    fields: dict[str, Any]
    expect: str | None  # final vm_state when evacuated, None when skipped
    reason: str = ""  # substring of the skip reason
    reset: bool = False  # reset to active before the evacuation
    meta: dict[str, str] = field(default_factory=dict)


def _scenario(prefix: str, vms: int, seed: int) -> dict[str, Any]:
    return {"seed": seed, "host_prefix": prefix, "hosts": 3, "vms_per_host": vms,
            "host_vcpus": 1024, "host_ram_mb": 4_000_000, "states": {"active": 1.0},
            "metadata": [{"weight": 1.0, "metadata": {}}], "server_groups": [],
            "aggregates": [], "latency": {"kind": "uniform", "low": 0.2, "high": 0.4},
            "power_latency": {"kind": "fixed", "value": 0.05}}


def _arrange(cloud: SimulatorProcess, host: str, cases: list[Case]) -> dict[str, Case]:
    """Put the host's VMs (oldest first) into the cases' states; id -> case."""
    servers = cloud.control.servers(host)
    assert len(servers) == len(cases)
    arranged = {}
    for server, case in zip(servers, cases, strict=True):
        cloud.control.set_server(server["id"], metadata_replace=case.meta, **case.fields)
        arranged[server["id"]] = case
    return arranged


def _recover(mistral: MistralServer, cloud: SimulatorProcess, host: str, tmp_path: Path,
             **policy: Any) -> tuple[dict[str, Any], support.Nova]:
    concurrency = policy.pop("concurrency", 4)
    support.write_actions_config(
        mistral.actions_config, mistral, cloud,
        policy={**policy, "host_policy_file": tmp_path / "none.yaml"},
        guard={"max_hosts": 100, "window": 0},
        recovery={"concurrency": concurrency})
    support.upload_workflows(mistral.api_url)
    nova = support.Nova(cloud)
    cloud.control.fail_host(host, immediate=True)
    cloud.control.clear_requests()
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, host)
        execution = support.wait_execution(mistral.api_url, incident, timeout=75)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    output: dict[str, Any] = execution["output"]
    assert output["outcome"] == "done", output["reason"]
    return output, nova


def _check(cloud: SimulatorProcess, nova: support.Nova, host: str, output: dict[str, Any],
           cases: dict[str, Case]) -> list[str]:
    """Exact evacuated set (one evacuate request each), skips with reasons, end states;
    returns the ids in the order Nova received their evacuate requests."""
    records = {r["id"]: r for r in output["instances"]}
    assert set(records) == set(cases)
    calls = cloud.control.server_actions("evacuate")
    per_vm = Counter(c["server_id"] for c in calls)
    wanted = {i for i, c in cases.items() if c.expect}
    assert per_vm == {i: 1 for i in wanted}, {cases[i].label: n for i, n in per_vm.items()}
    assert all(c["status"] == 200 for c in calls), calls
    resets = Counter(c["server_id"] for c in cloud.control.server_actions("os-resetState"))
    assert resets == {i: 1 for i, c in cases.items() if c.reset}
    for server_id, case in cases.items():
        record, now = records[server_id], cloud.control.server(server_id)
        if case.expect is None:
            assert record["result"] == "skipped", (case.label, record)
            assert case.reason in record["reason"], (case.label, record["reason"])
            assert now["host"] == host, case.label
            continue
        assert record["result"] == "evacuated", (case.label, record)
        assert now["host"] not in (host, None) and record["dest_host"] == now["host"]
        assert (now["vm_state"], now["task_state"]) == (case.expect, None), (case.label, now)
    assert output["summary"]["evacuated"] == len(wanted)
    assert output["summary"]["skipped"] == len(cases) - len(wanted)
    # Only the server detail that proves the API view agrees (not just the control view).
    assert {s["id"] for s in nova.servers(host)} == set(cases) - wanted
    return [c["server_id"] for c in calls]


USER_LOCK = {"locked": True, "locked_reason": "user maintenance", "locked_by": "owner"}
SKIP_CASES = [
    Case("high", {"vm_state": "active"}, "active", meta={"host_recovery:priority": "50"}),
    Case("mid", {"vm_state": "stopped"}, "stopped", meta={"evacuation_priority": "20"}),
    Case("low", {"vm_state": "active"}, "active", meta={"host_recovery:priority": "-5"}),
    Case("plain", {"vm_state": "active"}, "active"),
    Case("user-locked", {"vm_state": "active", **USER_LOCK}, "active"),
    Case("resizing", {"vm_state": "active", "task_state": "resize_prep"}, None,
         "task_state resize_prep (policy task_state=skip)"),
    Case("migrating", {"vm_state": "paused", "task_state": "migrating"}, None,
         "task_state migrating (policy task_state=skip)"),
    Case("paused", {"vm_state": "paused"}, None, "vm_state paused (policy other_states=skip)"),
    Case("suspended", {"vm_state": "suspended"}, None, "vm_state suspended (policy"),
    Case("shelved", {"vm_state": "shelved"}, None, "vm_state shelved (policy"),
    Case("rescued", {"vm_state": "rescued"}, None, "vm_state rescued (policy"),
    Case("resized", {"vm_state": "resized"}, None, "vm_state resized (policy"),
    Case("ours-off", {"vm_state": "active"}, None,
         "recovery disabled by metadata host_recovery:enabled=false",
         meta={"host_recovery:enabled": "false", "host_recovery:priority": "99"}),
    Case("masakari-off", {"vm_state": "active"}, None,
         "recovery disabled by metadata HA_Enabled=False", meta={"HA_Enabled": "False"}),
]


@pytest.fixture
def cloud_factory(simulator_process_factory: Callable[..., SimulatorProcess],
                  rabbit_url: str) -> Callable[[str, int], SimulatorProcess]:
    # Own seeds: server ids no other test's simulator has (the shared Mistral may still hold
    # another test's waits, which the listener stand-in looks up by instance id).
    seeds = {"istate-skip": 7101, "istate-reset": 7102}
    return lambda prefix, vms: simulator_process_factory(
        _scenario(prefix, vms, seeds[prefix]), rabbit_url)


@pytest.mark.mistral
def test_skip_policies_opt_out_and_priority_order(
        mistral: MistralServer, cloud_factory: Callable[[str, int], SimulatorProcess],
        tmp_path: Path) -> None:
    host = "istate-skip1"
    cloud = cloud_factory("istate-skip", len(SKIP_CASES))
    cases = _arrange(cloud, host, SKIP_CASES)
    # Concurrency 1: the evacuate requests reach Nova in the plan's order.
    output, nova = _recover(mistral, cloud, host, tmp_path, mode="opt-out",
                            task_state="skip", other_states="skip", user_locked="evacuate",
                            concurrency=1)
    order = _check(cloud, nova, host, output, cases)
    names = {s["id"]: s["name"] for s in cloud.control.servers()}
    expected = sorted((i for i, c in cases.items() if c.expect), key=lambda i: (
        -int(cases[i].meta.get("host_recovery:priority")
             or cases[i].meta.get("evacuation_priority") or 0), names[i], i))
    assert [cases[i].label for i in order] == [cases[i].label for i in expected]
    assert [cases[i].label for i in order][:2] == ["high", "mid"]
    assert cases[order[-1]].label == "low"
    for server_id, case in cases.items():
        now = cloud.control.server(server_id)
        if case.label == "user-locked":  # evacuated, its user's lock left as it was
            assert (now["locked"], now["locked_reason"], now["locked_by"]) == (
                True, "user maintenance", "owner")
        else:
            assert not now["locked"], (case.label, now)


HA = {"HA_Enabled": "True"}
RESET_CASES = [
    Case("untagged", {"vm_state": "active"}, None, "not enabled (policy mode opt-in)"),
    Case("tagged", {"vm_state": "active", "tags": ["evacuable"]}, "active"),
    Case("ours-on", {"vm_state": "stopped"}, "stopped", meta={"host_recovery:enabled": "true"}),
    Case("paused", {"vm_state": "paused"}, "active", reset=True, meta=HA),
    Case("suspended", {"vm_state": "suspended"}, "active", reset=True,
         meta={"host_recovery:enabled": "true"}),
    Case("shelved", {"vm_state": "shelved"}, "active", reset=True, meta=HA),
    Case("rescued", {"vm_state": "rescued"}, "active", reset=True, meta=HA),
    Case("resized", {"vm_state": "resized"}, "active", reset=True, meta=HA),
    Case("resizing", {"vm_state": "active", "task_state": "resize_migrating"}, "active",
         reset=True, meta=HA),
    Case("user-locked", {"vm_state": "stopped", **USER_LOCK}, None,
         "locked by its user (policy user_locked=skip)", meta=HA),
    Case("admin-locked", {"vm_state": "active", "locked": True, "locked_by": "admin",
                          "locked_reason": "hw check"}, None,
         "locked by its user (policy user_locked=skip)", meta=HA),
    Case("tagged-but-off", {"vm_state": "active", "tags": ["evacuable"]}, None,
         "recovery disabled by metadata HA_Enabled=False", meta={"HA_Enabled": "False"}),
]


@pytest.mark.mistral
def test_reset_policies_opt_in_tags_and_user_locks(
        mistral: MistralServer, cloud_factory: Callable[[str, int], SimulatorProcess],
        tmp_path: Path) -> None:
    host = "istate-reset1"
    cloud = cloud_factory("istate-reset", len(RESET_CASES))
    cases = _arrange(cloud, host, RESET_CASES)
    tagged = next(i for i, c in cases.items() if c.label == "tagged")
    assert support.Nova(cloud).server(tagged)["tags"] == ["evacuable"]  # at 2.95
    output, nova = _recover(mistral, cloud, host, tmp_path, mode="opt-in",
                            task_state="reset", other_states="reset", user_locked="skip")
    _check(cloud, nova, host, output, cases)
    for server_id, case in cases.items():
        now = cloud.control.server(server_id)
        assert now["locked"] == ("locked" in case.label), (case.label, now)
