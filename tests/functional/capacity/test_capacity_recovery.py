"""Capacity-aware recovery on the real parts (Mistral 23 over RabbitMQ, our action pack, the
simulator with Placement): a tight cloud recovers its higher priorities first and parks the
rest until a host comes back; a hard anti-affinity group is never co-located; ``plan``
(the action the CLI runs) names the targets the recovery then uses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from listener.operator import capacity as capacity_cli
from tests.functional.workflow import support
from tests.waiting import wait_for

HOST_KEY = "OS-EXT-SRV-ATTR:host"
FLAVOR = {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40, "extra_specs": {}}
# (27819 - 512 reserved) x 1.5 = 40960 MB: 8 VMs of 4 GiB leave room for 2 more per host
TIGHT_RAM_MB = 27819


def _prefix() -> str:
    return f"c{uuid.uuid4().hex[:6]}-"  # the shared Mistral's other incidents: not joined


def _cloud(factory: Callable[..., SimulatorProcess], rabbit_url: str, prefix: str,
           **overrides: Any) -> SimulatorProcess:
    scenario = {"host_prefix": prefix, "flavors": [FLAVOR], "states": {"active": 1.0},
                "server_groups": [], "aggregates": [],
                "latency": {"kind": "fixed", "value": 0.3},
                "power_latency": {"kind": "fixed", "value": 0.05}}
    scenario.update(overrides)
    return factory(scenario, rabbit_url)


def _configure(mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path,
               **recovery: Any) -> None:
    policy = tmp_path / "host-policy.yaml"
    policy.write_text("hosts: []\n")
    assert mistral.actions_config is not None
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 policy={"host_policy_file": policy},
                                 recovery={"capacity_poll_interval": 1, **recovery})
    support.upload_workflows(mistral.api_url)


def _tasks(api: str, execution_id: str) -> list[str]:
    resp = requests.get(f"{api}/executions/{execution_id}/tasks", timeout=10)
    return [t["name"] for t in resp.json().get("tasks", [])]


def _run_action(api: str, name: str, action_input: dict[str, Any]) -> Any:
    resp = requests.post(f"{api}/action_executions", timeout=120, json={
        "name": name, "input": json.dumps(action_input),
        "params": json.dumps({"run_sync": True, "save_result": False})})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["state"] == "SUCCESS", body.get("state_info")
    return json.loads(body["output"])["result"]


@pytest.mark.mistral
def test_a_tight_cloud_recovers_the_higher_priorities_first_and_the_rest_later(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    prefix = _prefix()
    cloud = _cloud(
        simulator_process_factory, rabbit_url, prefix, seed=1401, hosts=4, vms_per_host=8,
        host_ram_mb=TIGHT_RAM_MB, host_capacities={f"{prefix}4": {"ram_mb": 60000}},
        metadata=[{"weight": 0.5, "metadata": {"host_recovery:priority": "100"}},
                  {"weight": 0.5, "metadata": {"instanceha:restart_priority": "10"}}])
    host, spare = f"{prefix}1", f"{prefix}4"
    _configure(mistral, cloud, tmp_path, capacity_wait=120)
    nova = support.Nova(cloud)
    # what `host-recovery capacity` runs: 8 VMs per host, room for 2 on hosts 1-3 and for
    # 13 on host 4, so only host 4's loss cannot be absorbed
    report = _run_action(mistral.api_url, "host_recovery.capacity", {})
    absorbable = {h: e["absorbable"] for h, e in report["hosts"].items()}
    assert absorbable == {f"{prefix}{i}": i != 4 for i in range(1, 5)}
    assert not report["cloud"]["n_plus_1"] and report["vms"] == 32
    assert f"host {prefix}4 (nova): NOT absorbable: 2 of 8 VMs" in capacity_cli.render(report)
    cloud.control.fail_host(spare, immediate=True)   # a host out when the failure happens
    cloud.control.fail_host(host, immediate=True)
    victims = {s["id"]: s for s in nova.servers(host)}
    assert len(victims) == 8

    def priority(server: dict[str, Any]) -> int:
        meta = server.get("metadata") or {}
        return int(meta.get("host_recovery:priority") or
                   meta.get("instanceha:restart_priority") or 0)

    with support.ListenerStandIn(mistral.api_url, nova):
        preview = _run_action(mistral.api_url, "host_recovery.plan",
                              {"incident_id": "preview", "host": host, "preview": True})
        incident = support.start_recovery(mistral.api_url, host)
        wait_for(lambda: "await_capacity" in _tasks(mistral.api_url, incident), 90,
                 "the incident to wait for capacity")
        moved = {i for i in victims if nova.server(i)[HOST_KEY] != host}
        waiting = set(victims) - moved
        assert len(moved) == 4 and len(waiting) == 4
        assert min(priority(victims[i]) for i in moved) >= \
            max(priority(victims[i]) for i in waiting)
        planned = {vm["id"]: vm["target_host"] for vm in preview["instances"]}
        assert set(planned) == moved
        assert {vm["id"] for vm in preview["waiting"]} == waiting
        same = sum(1 for i in moved if nova.server(i)[HOST_KEY] == planned[i])
        assert same >= 0.9 * len(moved), (planned, same)
        cloud.control.revive_host(spare)             # capacity appears
        execution = support.wait_execution(mistral.api_url, incident, timeout=120)
    output = execution["output"]
    assert output["outcome"] == "done", output["reason"]
    assert output["summary"]["evacuated"] == 8
    for server_id in victims:
        now = nova.server(server_id)
        assert now["OS-EXT-STS:vm_state"] == "active", now
    assert {nova.server(i)[HOST_KEY] for i in waiting} == {spare}
    assert set(nova.evacuations().values()) == {1}  # each VM sent to Nova once


@pytest.mark.mistral
def test_a_hard_anti_affinity_group_of_three_on_two_free_hosts(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud = _cloud(
        simulator_process_factory, rabbit_url, _prefix(), seed=1402, hosts=5, vms_per_host=1,
        host_vcpus=1024, host_ram_mb=4_000_000, metadata=[{"weight": 1.0, "metadata": {}}],
        server_groups=[{"name": "db", "policy": "anti-affinity", "members": 3}])
    _configure(mistral, cloud, tmp_path, capacity_wait=2)
    nova = support.Nova(cloud)
    group = nova._req("GET", "/os-server-groups?all_projects=True",
                      version="2.64")["server_groups"][0]
    members = list(group["members"])
    failed = [nova.server(m)[HOST_KEY] for m in members]
    assert len(set(failed)) == 3
    outcomes = []
    with support.ListenerStandIn(mistral.api_url, nova):
        for host in failed:  # one incident after the other: each plans on what it sees
            cloud.control.fail_host(host, immediate=True)
            incident = support.start_recovery(mistral.api_url, host)
            outcomes.append(support.wait_execution(mistral.api_url, incident, 90)["output"])
    hosts = [nova.server(m)[HOST_KEY] for m in members]
    recovered = [h for h in hosts if h not in failed]
    assert len(recovered) == 2 and len(set(recovered)) == 2  # never co-located
    assert [o["summary"]["evacuated"] for o in outcomes] == [1, 1, 0]
    (line,) = [r for r in outcomes[2]["instances"] if r["id"] in members]
    assert line["result"] == "not_recovered" and "anti-affinity" in line["reason"]
    assert all(nova.server(m)["OS-EXT-STS:vm_state"] == "active" for m in members)


@pytest.mark.mistral
def test_two_hosts_failing_at_once_on_room_for_six_put_no_vm_in_error(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    # 3 hosts of 10 VMs' room holding 4 each: the survivor has room for 6 of the 8
    prefix = _prefix()
    cloud = _cloud(simulator_process_factory, rabbit_url, prefix, seed=1403, hosts=3,
                   vms_per_host=4, host_ram_mb=TIGHT_RAM_MB,
                   metadata=[{"weight": 1.0, "metadata": {}}])
    _configure(mistral, cloud, tmp_path, capacity_wait=3)
    nova = support.Nova(cloud)
    failed = [f"{prefix}1", f"{prefix}2"]
    victims = [s["id"] for host in failed for s in nova.servers(host)]
    for host in failed:
        cloud.control.fail_host(host, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incidents = [support.start_recovery(mistral.api_url, host) for host in failed]
        outputs = [support.wait_execution(mistral.api_url, i, 120)["output"]
                   for i in incidents]
    results = [r["result"] for o in outputs for r in o["instances"]]
    assert sorted(results) == ["evacuated"] * 6 + ["not_recovered"] * 2, outputs
    states = [nova.server(v)["OS-EXT-STS:vm_state"] for v in victims]
    assert "error" not in states
    assert set(nova.evacuations().values()) == {1}


@pytest.mark.mistral
def test_ordered_tiers_start_after_the_previous_tier_runs_plus_its_delay(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    prefix = _prefix()
    cloud = _cloud(simulator_process_factory, rabbit_url, prefix, seed=1404, hosts=3,
                   vms_per_host=6, host_vcpus=1024, host_ram_mb=4_000_000,
                   metadata=[{"weight": 0.5, "metadata": {"host_recovery:priority": "100",
                                                          "host_recovery:restart_delay": "2"}},
                             {"weight": 0.5, "metadata": {}}])
    host = f"{prefix}1"
    _configure(mistral, cloud, tmp_path, ordered_tiers=True, tier_bands="100")
    nova = support.Nova(cloud)
    victims = {s["id"]: s for s in nova.servers(host)}
    first = {i for i, s in victims.items()
             if (s.get("metadata") or {}).get("host_recovery:priority") == "100"}
    assert first and first != set(victims)
    cloud.control.fail_host(host, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, host)
        output = support.wait_execution(mistral.api_url, incident, 120)["output"]
    assert output["outcome"] == "done", output["reason"]
    asked = {e["path"].split("/")[-2]: e["time"] for e in cloud.control.requests()["entries"]
             if e.get("action") == "evacuate"}
    assert set(asked) == set(victims)
    later = min(t for i, t in asked.items() if i not in first)
    # tier 0 was evacuated, started again (ACTIVE, RUNNING), then its 2 s delay passed
    assert later >= max(asked[i] for i in first) + 2.0
