"""Evacuation claims in Placement as Nova does: on the target, with allocation ratios; the
source keeps its allocation until its nova-compute restarts; NoValidHost when nothing fits."""

from __future__ import annotations

from tests.fixtures.simulator import WsgiClient
from tests.waiting import wait_for


def _evacuate(api, server_id, body=None, version="2.53"):
    resp = api.nova("POST", f"/servers/{server_id}/action", {"evacuate": body or {}},
                    version=version)
    assert resp.status_code == 200, resp.text
    return wait_for(lambda: _settled(api, server_id), what="evacuation settled")


def _settled(api, server_id):
    server = api.server(server_id)
    return server if server["OS-EXT-STS:task_state"] is None else None


def _usage(sim, host):
    return sim.cloud.placement.usage(host)


def _lone(sim, host):
    return next(s for s in sorted(sim.cloud.servers.values(), key=lambda s: s.seq)
                if s.host == host and s.server_group is None)


def test_evacuation_claims_on_target_and_keeps_source_until_revival(sim_factory):
    sim = sim_factory({"hosts": 3, "vms_per_host": 3, "states": {"active": 1.0},
                       "server_groups": []})
    api = WsgiClient(sim)
    server = _lone(sim, "compute1")
    before = {h: _usage(sim, h) for h in ("compute1", "compute2", "compute3")}
    sim.cloud.fail_host("compute1", immediate=True)
    after = _evacuate(api, server.id)
    dest = after["OS-EXT-SRV-ATTR:host"]
    assert after["OS-EXT-STS:vm_state"] == "active" and dest != "compute1"
    rps = {p.name: p.uuid for p in sim.cloud.placement.providers.values()}
    allocations = api.placement("GET", f"/allocations/{server.id}").json["allocations"]
    assert set(allocations) == {rps["compute1"], rps[dest]}  # orphaned on the source
    assert _usage(sim, "compute1") == before["compute1"]  # still counted as used
    grown = [a + b for a, b in zip(before[dest], (server.flavor.vcpus, server.flavor.ram,
                                                    server.flavor.disk), strict=True)]
    assert list(_usage(sim, dest)) == grown
    sim.cloud.revive_host("compute1")  # nova-compute restarts and cleans up
    allocations = api.placement("GET", f"/allocations/{server.id}").json["allocations"]
    assert set(allocations) == {rps[dest]}
    assert sum(_usage(sim, "compute1")) < sum(before["compute1"])


def _tight(sim_factory):
    """Three hosts sized so that each has 10 % of its capacity free."""
    return sim_factory({"hosts": 3, "vms_per_host": 12, "states": {"active": 1.0},
                        "server_groups": [], "free_fraction": 0.1})


def test_tight_cloud_gives_no_valid_host_for_what_does_not_fit(sim_factory):
    sim = _tight(sim_factory)
    api = WsgiClient(sim)
    sim.cloud.fail_host("compute1", immediate=True)
    results = {}
    for server in sorted(sim.cloud.servers_on("compute1"), key=lambda s: -s.flavor.ram):
        results[server.id] = _evacuate(api, server.id)["OS-EXT-STS:vm_state"]
    assert "error" in results.values() and "active" in results.values()
    for provider in sim.cloud.placement.providers.values():
        assert min(provider.free()) >= 0, provider.name  # never beyond capacity x ratio
    failed = [m for m in sim.cloud.migrations if m.status == "error"]
    assert len(failed) == list(results.values()).count("error")


def test_requested_host_is_validated_and_force_still_claims(sim_factory):
    sim = sim_factory({"hosts": 3, "vms_per_host": 2, "states": {"active": 1.0},
                       "server_groups": []})
    api = WsgiClient(sim)
    placement = sim.cloud.placement
    # compute2 is full (another consumer), compute3 has room.
    placement.claim("filler", "p", "u", "compute2", placement.providers["compute2"].free(),
                    check=False)
    sim.cloud.fail_host("compute1", immediate=True)
    first, second = sorted(sim.cloud.servers_on("compute1"), key=lambda s: s.seq)
    assert _evacuate(api, first.id, {"host": "compute2"})["OS-EXT-STS:vm_state"] == "error"
    forced = _evacuate(api, second.id, {"host": "compute2", "force": True}, version="2.29")
    assert forced["OS-EXT-STS:vm_state"] == "error"  # Nova's claim on a forced host fails
    api.nova("POST", f"/servers/{first.id}/action", {"os-resetState": {"state": "active"}})
    moved = _evacuate(api, first.id, {"host": "compute3"})
    assert moved["OS-EXT-SRV-ATTR:host"] == "compute3"


def test_pinned_availability_zone_is_kept(sim_factory):
    sim = sim_factory({"hosts": 4, "vms_per_host": 2, "states": {"active": 1.0},
                       "server_groups": [], "pinned_az_fraction": 1.0,
                       "aggregates": [{"name": "az1", "availability_zone": "az1",
                                       "hosts": ["compute1", "compute2"]},
                                      {"name": "az2", "availability_zone": "az2",
                                       "hosts": ["compute3", "compute4"]}]})
    api = WsgiClient(sim)
    server = _lone(sim, "compute1")
    assert api.server(server.id, "2.96")["pinned_availability_zone"] == "az1"
    sim.cloud.fail_host("compute1", immediate=True)
    after = _evacuate(api, server.id)
    assert after["OS-EXT-SRV-ATTR:host"] == "compute2"
    assert after["OS-EXT-AZ:availability_zone"] == "az1"
    zones = {s["host"]: s["zone"] for s in api.nova("GET", "/os-services").json["services"]}
    assert zones["compute3"] == "az2" and zones["controller"] == "internal"
