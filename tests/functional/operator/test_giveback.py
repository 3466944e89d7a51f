"""The listener's give-back on the real parts: Mistral 23, our action pack, the simulator.

A fenced incident forces its host down; the listener's round gives the host back only after
its nova-compute restarted (and cleaned up the evacuated guests), once, recorded in Mistral.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from listener.conf import giveback as giveback_conf
from listener.giveback import GiveBack
from listener.mistral_api import MistralAPI
from listener.operator import unfence
from notifications.contract import GIVE_BACK
from tests.functional.workflow import support
from tests.waiting import wait_for

HOST = "compute1"


class CountingAPI(MistralAPI):
    """The real facade, remembering the hosts it started the give-back for."""

    hosts: list[str]

    def start_action(self, name: str, action_input: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
        if name == GIVE_BACK:
            self.hosts.append(str((action_input or {}).get("host")))
        return super().start_action(name, action_input)

    def results(self, host: str) -> list[dict[str, Any]]:
        """The stored outputs of the ended give-backs of ``host``, in no particular order
        (Mistral orders by created_at, to the second: runs of one second tie)."""
        runs = [r for r in self.list_action_executions(GIVE_BACK, state=None,
                                                       include_output="true")
                if (r.get("input") or {}).get("host") == host
                and r.get("state") in ("SUCCESS", "ERROR")]
        return [(r.get("output") or {}).get("result") or {} for r in runs]

    def last_result(self, host: str) -> dict[str, Any] | None:
        """An ended give-back of ``host``, once there is one."""
        found = self.results(host)
        return found[-1] if found else None


def _service(cloud: SimulatorProcess) -> dict[str, Any]:
    services = support.Nova(cloud)._req("GET", f"/os-services?host={HOST}&binary=nova-compute")
    found: dict[str, Any] = services["services"][0]
    return found


@pytest.mark.mistral
def test_a_fenced_host_is_given_back_once_after_nova_compute_restarts(
        mistral: MistralServer, simulator_process_factory: Callable[..., SimulatorProcess],
        rabbit_url: str, tmp_path: Path) -> None:
    cloud = simulator_process_factory({
        "hosts": 2, "vms_per_host": 2, "host_vcpus": 4096, "host_ram_mb": 10_000_000,
        "states": {"active": 1.0}, "metadata": [{"weight": 1.0, "metadata": {}}],
        "server_groups": [], "aggregates": [], "latency": {"kind": "fixed", "value": 0.05},
        "power_latency": {"kind": "fixed", "value": 0.02}}, rabbit_url)
    cloud.control.set_report_interval(0.5)
    assert mistral.actions_config is not None
    support.write_actions_config(mistral.actions_config, mistral, cloud,
                                 recovery={"poll_interval": 0.2})
    support.upload_workflows(mistral.api_url)
    cloud.control.fail_host(HOST, immediate=True)
    with support.ListenerStandIn(mistral.api_url, support.Nova(cloud)):
        incident = support.start_recovery(mistral.api_url, HOST)
        execution = support.wait_execution(mistral.api_url, incident, timeout=60)
    assert execution["state"] == "SUCCESS", execution["output"]
    assert execution["output"]["fence"]["forced_down"] is True
    assert _service(cloud)["forced_down"] is True

    conf = cfg.ConfigOpts()
    giveback_conf.register_opts(conf)
    conf([])
    conf.set_override("max_per_round", 50, "giveback")
    api = CountingAPI(MistralAPI.from_url(mistral.api_url)._adapter)
    api.hosts = []
    worker = GiveBack(conf, api)

    assert HOST in [c.host for c in worker.round()]
    before = wait_for(lambda: api.last_result(HOST), 30, "the first give-back to end")
    assert not before["cleared"] and before["reason"].startswith("not yet"), before
    assert _service(cloud)["forced_down"] is True
    # the operator's `host-recovery unfence` answers the same, and returns (no self-wait)
    by_hand = unfence.give_back(MistralAPI.from_url(mistral.api_url), HOST, timeout=60)
    assert not by_hand["cleared"] and by_hand["reason"].startswith("not yet"), by_hand

    cloud.control.revive_host(HOST)

    def cleared() -> dict[str, Any] | None:
        worker.round()  # one try per host at a time: skipped while the last one runs
        return next((r for r in api.results(HOST) if r.get("cleared")), None)

    after = wait_for(cleared, 30, "the give-back of the revived host", interval=0.5)
    assert after["incident_id"] == incident
    assert _service(cloud)["forced_down"] is False
    tries = api.hosts.count(HOST)
    assert HOST not in [c.host for c in worker.round()]  # recorded in Mistral: once
    assert api.hosts.count(HOST) == tries
