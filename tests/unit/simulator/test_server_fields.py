"""Control API: setting a server's fields as Nova holds them, and what Nova then does with
such a server (status, evacuate 409s, lock owner, tags per microversion)."""

from __future__ import annotations

import pytest
import requests

from simulator.control_client import ControlClient
from tests.fixtures.simulator import WsgiClient


def _first(sim, host="compute1"):
    return next(s for s in sorted(sim.cloud.servers.values(), key=lambda s: s.seq)
                if s.host == host and s.server_group is None)


def _patch(api, server_id, **fields):
    return api.call("control", "PATCH", f"/_sim/servers/{server_id}", fields, token=None)


def _evacuate(api, server_id):
    return api.nova("POST", f"/servers/{server_id}/action", {"evacuate": {}}, version="2.95")


@pytest.mark.parametrize(("vm_state", "power", "status"), [
    ("active", 1, "ACTIVE"), ("stopped", 4, "SHUTOFF"), ("paused", 3, "PAUSED"),
    ("suspended", 7, "SUSPENDED"), ("shelved", 4, "SHELVED"), ("rescued", 1, "RESCUE"),
    ("resized", 1, "VERIFY_RESIZE"), ("error", 4, "ERROR"),
    ("shelved_offloaded", 0, "SHELVED_OFFLOADED"),
])
def test_vm_state_sets_matching_power_state_and_status(api, sim, vm_state, power, status):
    server = _first(sim)
    resp = _patch(api, server.id, vm_state=vm_state)
    assert resp.status_code == 200, resp.text
    assert (resp.json["vm_state"], resp.json["power_state"]) == (vm_state, power)
    shown = api.server(server.id)
    assert (shown["OS-EXT-STS:vm_state"], shown["OS-EXT-STS:power_state"],
            shown["status"]) == (vm_state, power, status)


def test_explicit_power_state_and_task_state_status(api, sim):
    server = _first(sim)
    resp = _patch(api, server.id, vm_state="active", task_state="resize_prep", power_state=4)
    assert resp.status_code == 200, resp.text
    shown = api.server(server.id)
    assert shown["OS-EXT-STS:task_state"] == "resize_prep"
    assert shown["OS-EXT-STS:power_state"] == 4
    assert shown["status"] == "RESIZE"
    assert _patch(api, server.id, task_state=None).json["task_state"] is None
    assert api.server(server.id)["status"] == "ACTIVE"


@pytest.mark.parametrize("fields", [
    {"vm_state": "sleeping"}, {"task_state": "napping"}, {"power_state": 2},
    {"locked_by": "owner"}, {"locked": True, "locked_by": "someone"},
    {"locked_reason": "no lock"}, {"tags": ["a/b"]}, {"tags": "evacuable"},
    {"metadata": ["k"]}, {"metadata": {}, "metadata_replace": {}}, {"colour": "red"},
])
def test_values_nova_cannot_hold_are_400_and_change_nothing(api, sim, fields):
    server = _first(sim)
    before = (server.vm_state, server.task_state, server.power_state, server.locked,
              dict(server.metadata), list(server.tags))
    resp = _patch(api, server.id, **fields)
    assert resp.status_code == 400, fields
    assert resp.json["error"]
    assert (server.vm_state, server.task_state, server.power_state, server.locked,
            dict(server.metadata), list(server.tags)) == before


def test_unknown_server_is_404(api):
    assert _patch(api, "nope", vm_state="active").status_code == 404


def test_metadata_merge_and_replace(api, sim):
    server = _first(sim)
    _patch(api, server.id, metadata_replace={"a": "1", "b": "2"})
    merged = _patch(api, server.id, metadata={"b": "3", "HA_Enabled": "True"}).json
    assert merged["metadata"] == {"a": "1", "b": "3", "HA_Enabled": "True"}
    assert api.server(server.id)["metadata"] == merged["metadata"]
    assert _patch(api, server.id, metadata_replace={}).json["metadata"] == {}
    assert api.server(server.id)["metadata"] == {}


def test_lock_fields_and_unlock(api, sim):
    server = _first(sim)
    resp = _patch(api, server.id, locked=True, locked_reason="user maintenance",
                  locked_by="owner").json
    assert (resp["locked"], resp["locked_reason"], resp["locked_by"]) == (
        True, "user maintenance", "owner")
    shown = api.server(server.id, version="2.73")
    assert (shown["locked"], shown["locked_reason"]) == (True, "user maintenance")
    assert _patch(api, server.id, locked=True).json["locked_by"] == "owner"  # kept
    cleared = _patch(api, server.id, locked=False).json
    assert (cleared["locked"], cleared["locked_reason"], cleared["locked_by"]) == (
        False, None, None)
    assert _patch(api, server.id, locked=True).json["locked_by"] == "admin"  # default


def test_lock_action_records_owner_or_admin(sim_factory):
    sim = sim_factory({"credentials": [
        {"user": "admin", "password": "secret", "project": "admin", "domain": "Default",
         "roles": ["admin", "member", "reader"]},
        {"user": "alice", "password": "pw", "project": "demo", "domain": "Default",
         "roles": ["member", "reader"]}]})
    api = WsgiClient(sim)
    demo = sim.cloud.projects["demo"]
    server = next(s for s in sim.cloud.servers.values() if s.project_id == demo)
    alice = api.token("alice", "pw", "demo")
    path = f"/servers/{server.id}/action"
    assert api.nova("POST", path, {"lock": None}, token=alice).status_code == 202
    assert server.locked_by == "owner"
    assert api.nova("POST", path, {"unlock": None}, token=alice).status_code == 202
    assert api.nova("POST", path, {"lock": None}).status_code == 202  # the admin project
    assert server.locked_by == "admin"
    assert api.nova("POST", path, {"unlock": None}, token=alice).status_code == 403
    assert server.locked
    assert api.nova("POST", path, {"unlock": None}).status_code == 202
    assert (server.locked, server.locked_by) == (False, None)


def test_tags_shown_from_226(api, sim):
    server = _first(sim)
    assert _patch(api, server.id, tags=["evacuable", "web", "web"]).json["tags"] == [
        "evacuable", "web"]
    assert api.server(server.id, version="2.26")["tags"] == ["evacuable", "web"]
    assert "tags" not in api.server(server.id, version="2.25")


@pytest.mark.parametrize("task_state", ["resize_prep", "migrating", "image_snapshot",
                                        "rebooting", "shelving"])
def test_evacuate_with_a_task_state_is_409(api, sim, task_state):
    sim.cloud.fail_host("compute1", immediate=True)
    server = _first(sim)
    _patch(api, server.id, vm_state="active", task_state=task_state)
    resp = _evacuate(api, server.id)
    assert resp.status_code == 409
    assert f"task_state {task_state}" in resp.json["conflictingRequest"]["message"]
    assert not sim.cloud.migrations_of(server.id)


@pytest.mark.parametrize("vm_state", ["paused", "suspended", "shelved", "rescued", "resized",
                                      "building", "shelved_offloaded"])
def test_evacuate_in_other_vm_states_is_409(api, sim, vm_state):
    sim.cloud.fail_host("compute1", immediate=True)
    server = _first(sim)
    _patch(api, server.id, vm_state=vm_state)
    resp = _evacuate(api, server.id)
    assert resp.status_code == 409
    assert f"vm_state {vm_state}" in resp.json["conflictingRequest"]["message"]


def test_control_client_set_server(sim_factory):
    sim = sim_factory(serve=True)
    ctl = ControlClient(sim.urls()["control"])
    server = _first(sim)
    got = ctl.set_server(server.id, vm_state="paused", metadata={"k": "v"}, tags=["evacuable"])
    assert (got["vm_state"], got["power_state"], got["tags"]) == ("paused", 3, ["evacuable"])
    view = ctl.server(server.id)
    assert (view["vm_state"], view["metadata"]["k"], view["tags"]) == (
        "paused", "v", ["evacuable"])
    with pytest.raises(requests.HTTPError) as err:
        ctl.set_server(server.id, task_state="napping")
    assert err.value.response.status_code == 400
