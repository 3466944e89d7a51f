"""Placement and the heartbeat through keystoneauth1 against the real simulator process:
the endpoint from Keystone's catalog, placement microversions, usages that match the
servers, an evacuation's allocations, and updated_at that advances only while a host is up."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.waiting import wait_for

SCENARIO = {"hosts": 3, "vms_per_host": 3, "states": {"active": 1.0}, "server_groups": [],
            "report_interval": 0.5, "latency": {"kind": "fixed", "value": 0.02}}
PLACEMENT = {"service_type": "placement", "interface": "internal"}
COMPUTE = {"service_type": "compute", "interface": "internal"}


def _get(sess, path, **kwargs):
    resp = sess.get(path, endpoint_filter=PLACEMENT, microversion="1.39", **kwargs)
    assert resp.headers["OpenStack-API-Version"] == "placement 1.39"
    return resp.json()


def _updated_at(sess, host):
    resp = sess.get(f"/os-services?host={host}&binary=nova-compute", endpoint_filter=COMPUTE,
                    headers={"OpenStack-API-Version": "compute 2.53"})
    service = resp.json()["services"][0]
    return datetime.fromisoformat(service["updated_at"]), service


def test_placement_and_heartbeat_through_keystoneauth(simulator_process_factory):
    sim = simulator_process_factory(SCENARIO)
    sess = sim.keystone_session()
    providers = {p["name"]: p["uuid"] for p in _get(sess, "/resource_providers")[
        "resource_providers"]}
    assert sorted(providers) == ["compute1", "compute2", "compute3"]
    state = {h["host"]: h for h in sim.control.state()["hosts"]}
    for host, rp in providers.items():
        usages = _get(sess, f"/resource_providers/{rp}/usages")["usages"]
        assert usages["VCPU"] == state[host]["used_vcpus"]
        assert usages["MEMORY_MB"] == state[host]["used_ram_mb"]

    # The heartbeat: advances while up (report_interval 0.5 s), stops once failed.
    first, _ = _updated_at(sess, "compute1")
    wait_for(lambda: _updated_at(sess, "compute1")[0] > first, 5, "a heartbeat")
    sim.control.fail_host("compute1", immediate=True)
    frozen, service = _updated_at(sess, "compute1")
    assert service["state"] == "down"

    victim = next(s for s in sim.control.servers("compute1"))
    resp = sess.post(f"/servers/{victim['id']}/action", json={"evacuate": {}},
                     endpoint_filter=COMPUTE, headers={"OpenStack-API-Version": "compute 2.53"})
    assert resp.status_code == 200
    sim.control.wait_idle(10)
    allocations = _get(sess, f"/allocations/{victim['id']}")["allocations"]
    assert len(allocations) == 2 and providers["compute1"] in allocations  # orphaned source
    candidates = _get(sess, "/allocation_candidates", params={"resources": "VCPU:1"})
    assert len(candidates["allocation_requests"]) == 3
    # Live hosts report on; the failed one stays frozen.
    wait_for(lambda: _updated_at(sess, "compute2")[0] >= frozen + timedelta(seconds=2), 10,
             "compute2 reporting on")
    assert _updated_at(sess, "compute1")[0] == frozen
