"""Approving a held incident re-checks its fencing evidence, on the real parts (Mistral 23,
our action pack, the simulator process, the operator CLI's own ``decide``).

Two hosts fail with fresh Pacemaker evidence; the mass-failure guard holds both; both hosts
come back (nova-compute up again) while held. A plain ``approve`` must not evacuate a VM from
the live host (the evidence is stale: the incident ends ``refused``); ``approve --fenced``
records the operator's evidence and recovers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from listener.mistral_api import MistralAPI
from listener.operator.decisions import decide, held, matching
from tests.functional.workflow import support
from tests.waiting import wait_for

pytestmark = pytest.mark.mistral


def _evidence(host: str) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"kind": "pacemaker_fencing", "target": host, "action": "off",
            "completed_at": now, "executioner": "ctl2", "origin": "ctl1", "by": None,
            "incident_id": None}


def _service(nova: support.Nova, host: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = nova._req(
        "GET", f"/os-services?binary=nova-compute&host={host}")["services"]
    return found[0]


def test_approve_after_the_host_came_back_is_refused_without_fenced(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    prefix = f"a{uuid.uuid4().hex[:6]}-"  # own hosts: the shared Mistral's incidents differ
    cloud = simulator_process_factory({
        "host_prefix": prefix, "hosts": 4, "vms_per_host": 2, "host_vcpus": 1024,
        "host_ram_mb": 4_000_000, "states": {"active": 1.0},
        "metadata": [{"weight": 1.0, "metadata": {}}], "server_groups": [], "aggregates": [],
        "latency": {"kind": "fixed", "value": 0.2},
        "power_latency": {"kind": "fixed", "value": 0.05}}, rabbit_url)
    plain, fenced = f"{prefix}1", f"{prefix}2"
    assert mistral.actions_config is not None
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 policy={"host_policy_file": tmp_path / "none.yaml"},
                                 guard={"max_hosts": 0})  # hold every host
    support.upload_workflows(mistral.api_url)
    nova = support.Nova(cloud)
    api = MistralAPI.from_url(mistral.api_url)
    incidents = {}
    for host in (plain, fenced):
        cloud.control.fail_host(host, immediate=True)
        incidents[host] = support.start_recovery(mistral.api_url, host,
                                                 fencing_evidence=_evidence(host))
    wait_for(lambda: all(matching(held(api), i) for i in incidents.values()), 60,
             "both incidents held for approval")
    for host in (plain, fenced):
        cloud.control.revive_host(host)
    wait_for(lambda: all(_service(nova, h)["state"] == "up" for h in (plain, fenced)), 60,
             "nova-compute up again on both hosts")
    cloud.control.clear_requests()
    plain_vms = {s["id"] for s in nova.servers(plain)}
    assert len(plain_vms) == 2

    with support.ListenerStandIn(mistral.api_url, nova):
        assert decide(api, incidents[plain], approved=True, by="ops@test")[0] == 0
        assert decide(api, incidents[fenced], approved=True, by="ops@test", fenced=True)[0] == 0
        refused = support.wait_execution(mistral.api_url, incidents[plain], timeout=90)
        recovered = support.wait_execution(mistral.api_url, incidents[fenced], timeout=90)

    # the host runs nova-compute again: the fence step refuses, naming the stale evidence
    assert refused["output"]["outcome"] == "refused", refused["output"]
    assert "is stale" in refused["output"]["reason"], refused["output"]["reason"]
    evacuated = {e["server_id"] for e in cloud.control.server_actions("evacuate")}
    assert not plain_vms & evacuated, "a VM was evacuated from the live host"
    assert plain_vms <= {s["id"] for s in nova.servers(plain)}
    assert not _service(nova, plain)["forced_down"], "the live host was forced down"

    assert recovered["output"]["outcome"] == "done", recovered["output"]
    used = recovered["output"]["fence"]["evidence"]
    assert used["kind"] == "operator" and used["by"] == "ops@test", recovered["output"]["fence"]
    assert nova.servers(fenced) == [], "the approved --fenced host's VMs were not moved"
