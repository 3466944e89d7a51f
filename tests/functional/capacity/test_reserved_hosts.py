"""Reserved hosts (Masakari's ``reserved_host``) on the real parts: Mistral 23 over RabbitMQ,
our action pack, the simulator's Nova (os-services) and Placement. A tight cloud whose
enabled hosts cannot take the failed host's VMs, one reserved host kept disabled with room:
``host-recovery plan`` says it would enable it and ``capacity`` that the loss needs it, both
changing nothing; the recovery enables it and every VM is recovered, none in ERROR, the
incident's output naming the host."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from listener.cmd import operator
from tests.functional.capacity.test_capacity_recovery import TIGHT_RAM_MB, _cloud, _prefix
from tests.functional.workflow import support

HOST_KEY = "OS-EXT-SRV-ATTR:host"


def _service(nova: support.Nova, host: str) -> dict[str, Any]:
    (found,) = nova._req("GET", f"/os-services?binary=nova-compute&host={host}")["services"]
    return dict(found)


@pytest.mark.mistral
def test_a_reserved_host_is_enabled_when_the_vms_fit_nowhere_else(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = _prefix()
    host, enabled, spare = f"{prefix}1", f"{prefix}2", f"{prefix}3"
    # 8 VMs of 4 GiB per host; host 2 has room for 2 more, the reserved host 3 for 13 (the
    # simulator boots VMs on every host: the reserved one carries its own, only room counts)
    cloud = _cloud(simulator_process_factory, rabbit_url, prefix, seed=1414, hosts=3,
                   vms_per_host=8, host_ram_mb=TIGHT_RAM_MB,
                   host_capacities={spare: {"ram_mb": 60000}},
                   metadata=[{"weight": 1.0, "metadata": {}}])
    nova = support.Nova(cloud)
    # the operator keeps the reserved host disabled: Nova's scheduler puts nothing there
    nova._req("PUT", f"/os-services/{_service(nova, spare)['id']}",
              {"status": "disabled", "disabled_reason": "reserved for host-recovery"})
    policy = tmp_path / "host-policy.yaml"
    policy.write_text(f"hosts:\n  - match: \"{prefix}*\"\n    reserved_hosts: [{spare}]\n")
    assert mistral.actions_config is not None
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 policy={"host_policy_file": policy},
                                 recovery={"capacity_poll_interval": 1, "capacity_wait": 20})
    support.upload_workflows(mistral.api_url)
    config = tmp_path / "host-recovery.conf"
    config.write_text(f"[mistral]\nauth_type = none\nendpoint_override = {mistral.api_url}\n")
    victims = {s["id"] for s in nova.servers(host)}
    assert len(victims) == 8

    # `host-recovery plan`: what the recovery would do, nothing changed in Nova
    capsys.readouterr()
    assert operator.main(["--config-file", str(config), "plan", host]) == 0
    shown = capsys.readouterr().out
    assert f"reserved host {spare} would be enabled: 6 VMs waiting for capacity" in shown
    assert _service(nova, spare)["status"] == "disabled"
    # `host-recovery capacity`: that loss is absorbed only with the reserved host enabled
    assert operator.main(["--config-file", str(config), "capacity", "--json"]) == 0
    loss = json.loads(capsys.readouterr().out)["hosts"][host]
    assert loss["absorbable"] and loss["reserved_needed"] == [spare], loss
    assert _service(nova, spare)["status"] == "disabled"

    cloud.control.fail_host(host, immediate=True)
    with support.ListenerStandIn(mistral.api_url, nova):
        incident = support.start_recovery(mistral.api_url, host)
        output = support.wait_execution(mistral.api_url, incident, timeout=90)["output"]
    assert output["outcome"] == "done", output["reason"]
    assert output["summary"]["evacuated"] == 8
    (entry,) = output["reserved_enabled"]
    assert entry["host"] == spare and "waiting for capacity" in entry["reason"]
    assert output["reserved_would_enable"] == []
    now = _service(nova, spare)
    assert (now["status"], now["disabled_reason"]) == ("enabled", None)  # never re-disabled
    placed = [nova.server(i) for i in victims]
    assert all(s["OS-EXT-STS:vm_state"] == "active" for s in placed), placed
    on_spare = sum(1 for s in placed if s[HOST_KEY] == spare)
    assert on_spare >= 6 and {s[HOST_KEY] for s in placed} <= {enabled, spare}
    assert set(nova.evacuations().values()) == {1}  # each VM sent to Nova once
