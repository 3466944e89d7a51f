"""Every notification type the simulator emits matches Nova's sample, field for field."""

from __future__ import annotations

from tests.fixtures.simulator import WsgiClient
from tests.unit.simulator.samples import PUBLISHERS, differences, load_samples
from tests.waiting import wait_for


def _evacuate_and_settle(client, sim, server, version="2.53"):
    resp = client.nova("POST", f"/servers/{server.id}/action", {"evacuate": {}},
                       version=version)
    assert resp.status_code == 200, resp.text
    wait_for(lambda: server.task_state is None, what="evacuation end")


def _emit_every_type(sim_factory):
    sim = sim_factory({"hosts": 3, "vms_per_host": 6, "server_groups": []})
    client = WsgiClient(sim)
    by_seq = sorted(sim.cloud.servers.values(), key=lambda s: s.seq)
    source = [s for s in by_seq if s.host == "compute1"]
    for server, state in zip(source[:4], ["active", "stopped", "active", "active"],
                             strict=True):
        server.vm_state, server.power_state = state, 1 if state == "active" else 4
    uuid = client.nova("GET", "/os-services?host=compute1").json["services"][0]["id"]
    sim.cloud.fail_host("compute1")
    assert client.nova("PUT", f"/os-services/{uuid}", {"forced_down": True}).status_code == 200
    _evacuate_and_settle(client, sim, source[0])                  # rebuild.end, update
    _evacuate_and_settle(client, sim, source[1], version="2.94")  # power_off around rebuild
    sim.dice.update({"rebuild_error": 1.0})
    _evacuate_and_settle(client, sim, source[2])                  # rebuild.error
    sim.dice.update({"rebuild_error": 0.0, "no_valid_host": 1.0})
    _evacuate_and_settle(client, sim, source[3])                  # compute_task error
    sim.dice.update({"no_valid_host": 0.0})
    moved = source[0]
    for action in ("os-stop", "os-start"):
        client.nova("POST", f"/servers/{moved.id}/action", {action: None})
        wait_for(lambda: moved.task_state is None, what=action)
    assert sim.notifications.wait_idle(5)
    return sim


def test_every_emitted_type_matches_its_sample(sim_factory):
    samples = load_samples()
    sim = _emit_every_type(sim_factory)
    emitted = sim.sink.items
    assert {e[1] for e in emitted} == set(samples), "every sampled type is emitted"
    problems = []
    for publisher_id, event_type, priority, payload in emitted:
        sample = samples[event_type]
        if priority != sample["priority"]:
            problems.append(f"{event_type}: priority {priority}")
        allowed = PUBLISHERS.get(event_type, {sample["publisher_id"].split(":")[0]})
        if publisher_id.split(":")[0] not in allowed:
            problems.append(f"{event_type}: publisher {publisher_id}")
        problems += [f"{event_type}: {d}" for d in differences(payload, sample["payload"])]
    assert problems == [], "\n".join(problems)


def test_conformance_check_catches_a_missing_field(sim_factory):
    samples = load_samples()
    sim = _emit_every_type(sim_factory)
    payload = next(e[3] for e in sim.sink.items if e[1] == "instance.rebuild.end")
    broken = dict(payload, **{"nova_object.data": dict(payload["nova_object.data"])})
    del broken["nova_object.data"]["trusted_image_certificates"]
    broken["nova_object.data"]["flavor"] = dict(broken["nova_object.data"]["flavor"],
                                                **{"nova_object.version": "1.3"})
    found = differences(broken, samples["instance.rebuild.end"]["payload"])
    assert any("trusted_image_certificates" in d for d in found)
    assert any("flavor.nova_object.version" in d for d in found)
