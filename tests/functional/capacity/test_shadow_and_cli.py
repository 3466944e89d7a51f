"""``host-recovery plan`` and ``capacity`` (the operator CLI, JSON), the listener's capacity
gauges, and shadow mode (host policy ``mode: plan``) on the real parts: Mistral 23 over
RabbitMQ, our action pack, the simulator with Placement."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import prometheus_client
import pytest

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from listener import service, status
from listener.capacity_refresher import CapacityRefresher
from listener.cmd import operator
from listener.metrics import Metrics
from listener.mistral_api import MistralAPI
from tests.functional.capacity.test_capacity_recovery import _cloud, _prefix
from tests.functional.workflow import support

HOST_KEY = "OS-EXT-SRV-ATTR:host"


def _cli(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = operator.main(["--config-file", str(config), *argv])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.mistral
def test_plan_and_capacity_commands_then_a_shadow_host_down_evacuates_nothing(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = _prefix()
    cloud = _cloud(simulator_process_factory, rabbit_url, prefix, seed=1405, hosts=3,
                   vms_per_host=3, host_vcpus=1024, host_ram_mb=4_000_000,
                   metadata=[{"weight": 1.0, "metadata": {}}])
    host = f"{prefix}1"
    policy = tmp_path / "host-policy.yaml"
    policy.write_text(f"hosts:\n  - match: \"{host}\"\n    mode: plan\n")
    assert mistral.actions_config is not None
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 policy={"host_policy_file": policy},
                                 recovery={"capacity_poll_interval": 1})
    support.upload_workflows(mistral.api_url)
    config = tmp_path / "host-recovery.conf"
    config.write_text(f"[mistral]\nauth_type = none\nendpoint_override = {mistral.api_url}\n")
    nova = support.Nova(cloud)
    victims = {s["id"] for s in nova.servers(host)}
    assert len(victims) == 3

    code, report = _cli(capsys, config, "capacity", "--json")
    assert code == 0 and report["cloud"]["n_plus_1"] is True
    assert set(report["hosts"]) == {f"{prefix}{i}" for i in (1, 2, 3)}
    assert all(entry["absorbable"] for entry in report["hosts"].values())
    # the listener's gauges: the same action, stored and polled (never run_sync)
    metrics = Metrics(prometheus_client.CollectorRegistry())
    refresher = CapacityRefresher(service.prepare_service(
        ["--config-file", str(config)], setup_logging=False), MistralAPI.from_url(
        mistral.api_url), metrics, poll=0.2)
    assert refresher.refresh() is not None
    text = prometheus_client.generate_latest(metrics.registry).decode()
    for name in report["hosts"]:
        assert f'host_recovery_failover_capacity_absorbable{{host="{name}",zone="nova"}} ' \
            '1.0' in text
    assert 'host_recovery_failover_capacity_n_plus_1{name="cloud",scope="cloud"} 1.0' in text
    code, preview = _cli(capsys, config, "plan", host, "--json")
    assert code == 0 and preview["capacity_plan"] is True
    planned = {vm["id"]: vm["target_host"] for vm in preview["instances"]}
    assert set(planned) == victims and not preview["waiting"]
    assert set(planned.values()) <= {f"{prefix}2", f"{prefix}3"}
    assert preview["host_policy"]["mode"] == "plan"

    cloud.control.fail_host(host, immediate=True)
    cloud.control.clear_requests()
    incident = support.start_recovery(mistral.api_url, host)
    execution = support.wait_execution(mistral.api_url, incident, timeout=90)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    output = execution["output"]
    assert output["outcome"] == "planned" and output["decision"] == "plan", output
    assert output["summary"]["planned"] == 3 and output["summary"]["evacuated"] == 0
    lines = {line["id"]: line for line in output["instances"]}
    assert {i: lines[i]["dest_host"] for i in victims} == planned  # the plan, recorded
    assert output["fence"] == {}  # no fence step: nothing forced down
    # nothing changed in Nova: no server action (lock, evacuate...), no service update
    assert cloud.control.server_actions() == []
    writes = [e for e in cloud.control.requests()["entries"]
              if e.get("method") not in ("GET", None) and "/auth/" not in e.get("path", "")]
    assert writes == []
    assert all(not nova.server(i)["locked"] and nova.server(i)[HOST_KEY] == host
               for i in victims)
    # what `host-recovery status` shows: skipped by policy, each VM planned to its target
    (shown,) = status.collect(MistralAPI.from_url(mistral.api_url), incident=incident)
    assert (shown.state, shown.outcome) == ("skipped", "planned")
    assert {vm.id: (vm.result, vm.dest_host) for vm in shown.vms} == {
        i: ("planned", planned[i]) for i in victims}
