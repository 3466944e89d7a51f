"""Evacuation per Nova's rules and microversions, the scheduler, and injected failures."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.simulator import WsgiClient
from tests.waiting import wait_for


def _on(sim, host, state="active"):
    """An idle VM on ``host`` outside server groups, put into ``state``."""
    server = next(s for s in sorted(sim.cloud.servers.values(), key=lambda s: s.seq)
                  if s.host == host and s.task_state is None and s.server_group is None
                  and not sim.cloud.migrations_of(s.id))
    server.vm_state = state
    server.power_state = 1 if state == "active" else 4
    return server


def _evacuate(api, server_id, body=None, version="2.53"):
    return api.nova("POST", f"/servers/{server_id}/action", {"evacuate": body or {}},
                    version=version)


def _settled(api, server_id):
    server = api.server(server_id)
    return server if server["OS-EXT-STS:task_state"] is None else None


@pytest.fixture
def dead(sim):
    """compute1 has failed and its service counts as down."""
    sim.cloud.fail_host("compute1", immediate=True)
    return "compute1"


def test_source_service_up_is_400(api, sim):
    server = _on(sim, "compute1")
    resp = _evacuate(api, server.id)
    assert resp.status_code == 400
    assert resp.json["badRequest"]["message"] == "Compute service of compute1 is still in use."


def test_service_down_after_service_down_time_or_forced(api, sim_factory):
    now = [1000.0]
    sim = sim_factory({"service_down_time": 60})
    sim.cloud.clock = lambda: now[0]
    sim.cloud.fail_host("compute1")
    state = lambda: sim.cloud.service_is_up(sim.cloud.compute_service("compute1"))  # noqa: E731
    assert state() is True
    now[0] += 59.9
    assert state() is True
    now[0] += 0.2
    assert state() is False
    sim.cloud.revive_host("compute1")
    assert state() is True
    sim.cloud.compute_service("compute1").forced_down = True
    assert state() is False


def test_evacuate_moves_vm_to_another_host(api, sim, dead):
    server = _on(sim, dead)
    resp = _evacuate(api, server.id)
    assert resp.status_code == 200 and resp.body == b""
    during = api.server(server.id)
    assert during["OS-EXT-STS:task_state"] == "rebuilding"
    assert during["status"] == "REBUILD"
    assert _evacuate(api, server.id).status_code == 409  # task_state set
    after = wait_for(lambda: _settled(api, server.id), what="evacuation end")
    assert after["OS-EXT-SRV-ATTR:host"] not in (dead, None)
    assert after["OS-EXT-STS:vm_state"] == "active"
    assert after["OS-EXT-STS:power_state"] == 1
    (migration,) = api.nova("GET", "/os-migrations", version="2.59").json["migrations"]
    assert (migration["instance_uuid"], migration["status"], migration["source_compute"]) == (
        server.id, "done", dead)
    assert migration["migration_type"] == "evacuation"


def test_below_214_needs_on_shared_storage_and_returns_password(api, sim, dead):
    server = _on(sim, dead)
    assert _evacuate(api, server.id, {}, version="2.13").status_code == 400
    resp = _evacuate(api, server.id, {"onSharedStorage": False}, version="2.13")
    assert resp.status_code == 200 and resp.json["adminPass"]
    other = _on(sim, dead)
    assert other.id != server.id
    resp = _evacuate(api, other.id, {"onSharedStorage": True}, version="2.14")
    assert resp.status_code == 400
    assert "onSharedStorage" in resp.json["badRequest"]["message"]


@pytest.mark.parametrize(("version", "accepted"), [("2.28", False), ("2.29", True),
                                                   ("2.67", True), ("2.68", False)])
def test_force_only_between_229_and_267(api, sim, dead, version, accepted):
    server = _on(sim, dead)
    resp = _evacuate(api, server.id, {"host": "compute2", "force": True}, version=version)
    assert (resp.status_code == 200) is accepted
    if accepted:
        after = wait_for(lambda: _settled(api, server.id))
        assert after["OS-EXT-SRV-ATTR:host"] == "compute2"


def test_host_validation(api, sim, dead):
    server = _on(sim, dead)
    assert _evacuate(api, server.id, {"host": "nowhere"}).status_code == 404
    assert _evacuate(api, server.id, {"host": dead}).status_code == 400
    assert _evacuate(api, "no-such-server").status_code == 404


def test_unusable_requested_host_fails_like_nova(api, sim, dead):
    """2.29+: a requested (not forced) host goes through the scheduler: disabled -> ERROR."""
    sim.cloud.compute_service("compute2").disabled = True
    server = _on(sim, dead)
    assert _evacuate(api, server.id, {"host": "compute2"}).status_code == 200
    after = wait_for(lambda: _settled(api, server.id))
    assert after["OS-EXT-STS:vm_state"] == "error"
    assert after["OS-EXT-SRV-ATTR:host"] == dead
    assert "No valid host" in after["fault"]["message"]
    assert sim.notifications.wait_idle(5)
    assert sim.sink.types(server.id) == [
        "instance.evacuate", "compute_task.rebuild_server.error", "instance.update"]


def test_wrong_vm_state_is_409(api, sim, dead):
    server = _on(sim, dead)
    server.vm_state = "paused"
    resp = _evacuate(api, server.id)
    assert resp.status_code == 409
    assert "vm_state paused" in resp.json["conflictingRequest"]["message"]


@pytest.mark.parametrize(("version", "original", "final", "power"), [
    ("2.94", "active", "active", 1), ("2.94", "stopped", "stopped", 4),
    ("2.95", "active", "stopped", 4), ("2.95", "stopped", "stopped", 4),
    ("2.94", "error", "active", 1),
])
def test_end_state_per_microversion(api, sim, dead, version, original, final, power):
    server = _on(sim, dead, original)
    assert _evacuate(api, server.id, version=version).status_code == 200
    after = wait_for(lambda: _settled(api, server.id))
    assert (after["OS-EXT-STS:vm_state"], after["OS-EXT-STS:power_state"]) == (final, power)
    assert after["OS-EXT-SRV-ATTR:host"] != dead


def test_notification_order_for_a_stopped_vm_below_295(api, sim, dead):
    server = _on(sim, dead, "stopped")
    _evacuate(api, server.id, version="2.94")
    wait_for(lambda: _settled(api, server.id))
    assert sim.notifications.wait_idle(5)
    assert sim.sink.types(server.id) == [
        "instance.evacuate", "instance.rebuild_scheduled", "instance.rebuild.start",
        "instance.power_off.start", "instance.power_off.end", "instance.rebuild.end",
        "instance.update"]
    publishers = [i[0] for i in sim.sink.of(server.id)]
    dest = api.server(server.id)["OS-EXT-SRV-ATTR:host"]
    assert publishers[0] == "nova-api:controller"
    assert publishers[1] == f"nova-conductor:{dest}"
    assert set(publishers[2:]) == {f"nova-compute:{dest}"}
    end = sim.sink.of(server.id)[5][3]["nova_object.data"]
    assert end["host"] == dead  # Nova moves instance.host after rebuild.end


def test_scheduler_respects_anti_affinity_and_capacity(api, sim_factory):
    sim = sim_factory({"hosts": 3, "vms_per_host": 2, "host_vcpus": 8, "host_ram_mb": 16384,
                       "states": {"active": 1.0},
                       "server_groups": [{"name": "g", "policy": "anti-affinity",
                                          "members": 3}]})
    client = WsgiClient(sim)
    group = next(iter(sim.cloud.groups.values()))
    assert len({sim.cloud.servers[m].host for m in group.members}) == 3
    member = sim.cloud.servers[group.members[0]]
    sim.cloud.fail_host(member.host, immediate=True)
    _evacuate(client, member.id)
    after = wait_for(lambda: _settled(client, member.id))
    # The two other hosts each hold a group member: anti-affinity leaves no valid host.
    assert after["OS-EXT-STS:vm_state"] == "error"
    for server in sim.cloud.servers.values():
        vcpus, ram = sim.cloud.usage(server.host)
        service = sim.cloud.compute_service(server.host)
        assert vcpus <= service.vcpus and ram <= service.ram_mb


def test_injected_rebuild_error(api, sim, dead):
    sim.dice.update({"rebuild_error": 1.0})
    server = _on(sim, dead)
    _evacuate(api, server.id)
    after = wait_for(lambda: _settled(api, server.id))
    assert after["OS-EXT-STS:vm_state"] == "error"
    assert sim.notifications.wait_idle(5)
    assert sim.sink.types(server.id)[-2:] == ["instance.rebuild.error", "instance.update"]
    assert sim.sink.of(server.id)[-2][2] == "ERROR"
    assert sim.cloud.migrations[-1].status == "failed"


def test_injected_no_valid_host(api, sim, dead):
    sim.dice.update({"no_valid_host": 1.0})
    server = _on(sim, dead)
    _evacuate(api, server.id)
    wait_for(lambda: _settled(api, server.id))
    assert sim.notifications.wait_idle(5)
    assert "compute_task.rebuild_server.error" in sim.sink.types(server.id)
    assert sim.cloud.migrations[-1].status == "error"


def test_injected_evacuate_refusals_are_counted_and_never_accepted(api, sim, dead):
    sim.dice.update({"evacuate_5xx": 2})
    server = _on(sim, dead)
    assert [_evacuate(api, server.id).status_code for _ in range(2)] == [500, 500]
    assert api.server(server.id)["OS-EXT-STS:task_state"] is None and not sim.cloud.migrations
    assert api.nova("GET", "/os-services").status_code == 200  # evacuates only
    assert _evacuate(api, server.id).status_code == 200  # the count is spent
    assert sim.dice.rates.evacuate_5xx == 0


def test_injected_http_errors_and_slowness(api, sim):
    sim.dice.update({"http_5xx": 1.0})
    resp = api.nova("GET", "/os-services")
    assert resp.status_code == 500 and "computeFault" in resp.json
    assert api.call("identity", "GET", "/v3", token=None).status_code == 200  # Nova only
    sim.dice.update({"http_5xx": 0.0, "slow": 1.0, "slow_seconds": 0.2})
    started = time.monotonic()
    assert api.nova("GET", "/os-services").status_code == 200
    assert time.monotonic() - started >= 0.2
    with pytest.raises(ValueError, match="unknown fault"):
        sim.dice.update({"typo": 1})


def test_notification_drop_duplicate_delay(sim_factory):
    sim = sim_factory({"faults": {"notif_duplicate": 1.0}})
    client = WsgiClient(sim)
    uuid = client.nova("GET", "/os-services?host=compute1").json["services"][0]["id"]
    client.nova("PUT", f"/os-services/{uuid}", {"forced_down": True})
    assert sim.notifications.wait_idle(5)
    assert [i[1] for i in sim.sink.items] == ["service.update"] * 2
    sim.dice.update({"notif_duplicate": 0.0, "notif_drop": 1.0})
    client.nova("PUT", f"/os-services/{uuid}", {"status": "disabled"})
    assert sim.notifications.wait_idle(5)
    assert len(sim.sink.items) == 2 and sim.notifications.stats()["dropped"] == 1
    sim.dice.update({"notif_drop": 0.0, "notif_delay": 1.0, "notif_delay_seconds": 0.05})
    client.nova("PUT", f"/os-services/{uuid}", {"status": "enabled"})
    wait_for(lambda: len(sim.sink.items) == 3, what="delayed notification")
    assert sim.notifications.stats()["delayed"] == 1


def test_unforce_refused_while_done_evacuations_exist(api, sim):
    uuid = api.nova("GET", "/os-services?host=compute1").json["services"][0]["id"]
    sim.cloud.fail_host("compute1")
    api.nova("PUT", f"/os-services/{uuid}", {"forced_down": True})
    server = _on(sim, "compute1")
    _evacuate(api, server.id)
    wait_for(lambda: _settled(api, server.id))
    assert api.nova("PUT", f"/os-services/{uuid}", {"forced_down": False}).status_code == 400
    sim.cloud.revive_host("compute1")  # the restarted compute cleans up its evacuations
    assert api.nova("PUT", f"/os-services/{uuid}", {"forced_down": False}).status_code == 200


def test_stop_and_start(api, sim):
    server = _on(sim, "compute2")
    assert api.nova("POST", f"/servers/{server.id}/action", {"os-start": None}).status_code \
        == 409
    assert api.nova("POST", f"/servers/{server.id}/action", {"os-stop": None}).status_code \
        == 202
    stopped = wait_for(lambda: _settled(api, server.id))
    assert (stopped["status"], stopped["OS-EXT-STS:power_state"]) == ("SHUTOFF", 4)
    api.nova("POST", f"/servers/{server.id}/action", {"os-start": None})
    started = wait_for(lambda: _settled(api, server.id))
    assert started["status"] == "ACTIVE"
    assert sim.notifications.wait_idle(5)
    assert sim.sink.types(server.id) == ["instance.power_off.start", "instance.power_off.end",
                                         "instance.power_on.start", "instance.power_on.end"]
    sim.cloud.fail_host("compute2", immediate=True)
    assert api.nova("POST", f"/servers/{server.id}/action", {"os-stop": None}).status_code \
        == 503
