"""The capacity analysis's incremental server read against the real simulator process:
Nova's ``changes-since`` through the pack's PlacementClient, the ``Date`` header as the next
starting point, and an evacuation found by the incremental read (the server's new host)."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from harness.simulator import SimulatorProcess
from host_recovery_actions import server_index
from host_recovery_actions.placement import PlacementClient
from host_recovery_actions.server_index import ServerIndex
from tests.waiting import wait_for

SCENARIO = {"hosts": 3, "vms_per_host": 4, "states": {"active": 1.0}, "server_groups": [],
            "latency": {"kind": "fixed", "value": 0.05},
            "power_latency": {"kind": "fixed", "value": 0.01}}
HOST = "OS-EXT-SRV-ATTR:host"
COMPUTE = {"OpenStack-API-Version": "compute 2.96"}


def test_an_incremental_read_finds_the_evacuated_server_and_only_changes(
        simulator_process_factory: Callable[..., SimulatorProcess],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # no margin: the incremental read then lists exactly what changed after the full one
    monkeypatch.setattr(server_index, "MARGIN", timedelta(0))
    sim = simulator_process_factory(SCENARIO)
    session = sim.keystone_session()
    client = PlacementClient(session, "public")
    built = max(datetime.fromisoformat(s["updated"]) for s in client.servers())
    # Nova's times are whole seconds: start once its clock is past the build's second
    wait_for(lambda: _nova_now(session, sim.compute_url) > built, 10, "a second to pass")
    index = ServerIndex()
    first = {s["id"]: s for s in index.servers(client, full_every=900)}
    assert len(first) == 12 and index.last_read == "full"

    victim = next(s for s in first.values() if s[HOST] == "compute1")
    sim.control.fail_host("compute1", immediate=True)
    resp = session.post(f"{sim.compute_url}/servers/{victim['id']}/action",
                        json={"evacuate": {"host": "compute2"}}, headers=COMPUTE,
                        raise_exc=False)
    assert resp.status_code == 200, resp.text
    wait_for(lambda: sim.control.state()["migrations"].get("done") == 1, 30,
             "the evacuation to end")

    after: dict[str, dict[str, Any]] = {s["id"]: s for s in index.servers(client, 900)}
    assert index.last_read == "incremental (1 changed)"
    assert set(after) == set(first)
    assert after[victim["id"]][HOST] == "compute2"  # found by changes-since, not a full read
    bogus = session.get(f"{sim.compute_url}/servers/detail?all_tenants=1&changes-since=soon",
                        headers=COMPUTE, raise_exc=False)
    assert bogus.status_code == 400 and "changes-since" in bogus.text


def _nova_now(session: Any, compute_url: str) -> datetime:
    resp = session.get(f"{compute_url}/os-services", headers=COMPUTE)
    return email.utils.parsedate_to_datetime(resp.headers["Date"])
