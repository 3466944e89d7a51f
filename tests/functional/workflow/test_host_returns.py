"""Never evacuate a live host, on the real parts (Mistral 23 over RabbitMQ, our action pack,
the simulator process): the re-check before every evacuate when the host comes back, one
incident per host, and a user's rebuild that is not ours."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from tests.functional.workflow import support
from tests.waiting import wait_for

TTL = 1.0  # source_check's read interval: one re-check after the revival


def _cloud(factory: Callable[..., SimulatorProcess], rabbit_url: str, vms: int,
           latency: dict[str, Any]) -> tuple[SimulatorProcess, str]:
    # a host name of its own: the session Mistral's other incidents must not be joined
    prefix = f"r{uuid.uuid4().hex[:6]}-"
    cloud = factory({"host_prefix": prefix, "hosts": 4, "vms_per_host": vms,
                     "host_vcpus": 4096, "host_ram_mb": 10_000_000,
                     "states": {"active": 1.0}, "metadata": [{"weight": 1.0, "metadata": {}}],
                     "server_groups": [], "aggregates": [], "latency": latency,
                     "power_latency": {"kind": "fixed", "value": 0.05}}, rabbit_url)
    return cloud, f"{prefix}1"


def _configure(mistral: MistralServer, cloud: SimulatorProcess, tmp_path: Path, host: str,
               concurrency: int, unfenced: bool = False) -> None:
    policy = tmp_path / "host-policy.yaml"
    policy.write_text(f"hosts:\n  - match: {host}\n    unfenced_recovery: allow\n"
                      "    require_down_for: 1\n" if unfenced else "hosts: []\n")
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 policy={"host_policy_file": policy},
                                 recovery={"concurrency": concurrency})
    support.upload_workflows(mistral.api_url)


def _evidence(host: str) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"kind": "pacemaker_fencing", "target": host, "action": "reboot",
            "completed_at": now, "executioner": "ctl2", "origin": "ctl1", "by": None,
            "incident_id": None}


def _service_updated_at(nova: support.Nova, host: str) -> datetime:
    service = nova._req("GET", f"/os-services?binary=nova-compute&host={host}")["services"][0]
    assert service["forced_down"], service  # the fence step's write: the re-check's baseline
    return datetime.fromisoformat(service["updated_at"]).replace(tzinfo=UTC)


def _evacuate_times(cloud: SimulatorProcess) -> list[float]:
    return [entry["time"] for entry in cloud.control.requests()["entries"]
            if entry.get("action") == "evacuate"]


@pytest.mark.mistral
def test_a_host_never_proven_dead_that_returns_stops_the_recovery(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud, host = _cloud(simulator_process_factory, rabbit_url, 30,
                         {"kind": "fixed", "value": 2.0})
    _configure(mistral, cloud, tmp_path, host, concurrency=5, unfenced=True)
    nova = support.Nova(cloud)
    cloud.control.fail_host(host, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, host, fencing_confirmed=False)
        cloud.control.wait(lambda: len(nova.evacuations()) >= 5, 60, "5 evacuations")
        revived = time.time()
        cloud.control.revive_host(host)
        execution = support.wait_execution(mistral.api_url, incident, timeout=90)
    output = execution["output"]
    assert output["outcome"] == "host_returned", output["reason"]
    late = [t - revived for t in _evacuate_times(cloud) if t > revived + TTL + 0.5]
    assert late == [], f"evacuate requested {late} s after the host came back"
    source = output["source_host"]
    assert source["returned"] and not source["proven_dead"]
    moved, not_moved = set(source["moved"]), set(source["not_moved"])
    assert len(moved) >= 5 and not_moved and len(moved | not_moved) == 30
    assert set(nova.evacuations()) >= moved
    for server in nova.servers(host):  # left alone on the live host, not locked by us
        assert not server["locked"], server


@pytest.mark.mistral
def test_a_host_fenced_by_reboot_that_returns_is_still_recovered(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud, host = _cloud(simulator_process_factory, rabbit_url, 10,
                         {"kind": "fixed", "value": 2.0})
    _configure(mistral, cloud, tmp_path, host, concurrency=3)
    nova = support.Nova(cloud)
    cloud.control.fail_host(host, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, host,
                                          fencing_evidence=_evidence(host))
        cloud.control.wait(lambda: len(nova.evacuations()) >= 3, 60, "3 evacuations")
        # Nova's updated_at has whole seconds: a reboot saved in the second of our force-down
        # shows only at its next heartbeat (report_interval later), after this incident's end
        forced_at = _service_updated_at(nova, host)
        wait_for(lambda: datetime.now(UTC).replace(microsecond=0) > forced_at, 5,
                 "Nova's clock past the force-down's second")
        cloud.control.revive_host(host)  # rebooted: nova-compute reports again
        execution = support.wait_execution(mistral.api_url, incident, timeout=90)
    output = execution["output"]
    assert output["outcome"] == "done", output["reason"]
    assert output["summary"]["evacuated"] == 10
    assert output["source_host"]["returned"] and output["source_host"]["proven_dead"]
    assert "continued" in output["reason"]
    assert nova.evacuations() == {s: 1 for s in nova.evacuations()}
    assert len(nova.evacuations()) == 10


@pytest.mark.mistral
def test_two_incidents_for_one_host_make_one_recovery(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud, host = _cloud(simulator_process_factory, rabbit_url, 6,
                         {"kind": "fixed", "value": 0.5})
    _configure(mistral, cloud, tmp_path, host, concurrency=6)
    nova = support.Nova(cloud)
    cloud.control.fail_host(host, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        # the OCF scan and the alert agent, each with its own incident id
        first = support.start_recovery(mistral.api_url, host, fencing_evidence=_evidence(host))
        second = support.start_recovery(mistral.api_url, host,
                                        fencing_evidence=_evidence(host))
        ends = {i: support.wait_execution(mistral.api_url, i, timeout=90)["output"]
                for i in (first, second)}
    # the leader is the earlier by (created_at, id): both may be created in one second
    outcomes = sorted((out["outcome"], i) for i, out in ends.items())
    (done, leader), (joined, follower) = outcomes
    assert (done, joined) == ("done", "joined"), ends
    assert leader in ends[follower]["reason"]
    assert nova.evacuations() == {s["id"]: 1 for s in ends[leader]["instances"]}
    assert len(nova.evacuations()) == 6


@pytest.mark.mistral
def test_a_user_rebuild_in_progress_is_not_claimed(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud, host = _cloud(simulator_process_factory, rabbit_url, 2,
                         {"kind": "fixed", "value": 0.3})
    _configure(mistral, cloud, tmp_path, host, concurrency=2)
    nova = support.Nova(cloud)
    busy = cloud.control.servers(host)[0]["id"]
    cloud.control.set_server(busy, task_state="rebuilding")  # a user's rebuild
    cloud.control.fail_host(host, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, host,
                                          fencing_evidence=_evidence(host))
        cloud.control.wait(lambda: len(nova.evacuations()) >= 1, 30, "the other VM")
        cloud.control.set_server(busy, task_state=None, vm_state="active")
        execution = support.wait_execution(mistral.api_url, incident, timeout=45)
    records = {r["id"]: r for r in execution["output"]["instances"]}
    assert records[busy]["result"] == "evacuated", records[busy]
    assert records[busy]["attempts"] == 1  # evacuated after the user's task, not claimed
    assert nova.evacuations().get(busy) == 1
