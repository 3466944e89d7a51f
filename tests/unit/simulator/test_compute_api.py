"""Nova API of the simulator: microversions, services, servers, admin resources, Glance."""

from __future__ import annotations

import pytest


def test_version_documents_need_no_token(api):
    root = api.call("compute", "GET", "/", token=None)
    assert root.status_code == 200
    v21 = next(v for v in root.json["versions"] if v["id"] == "v2.1")
    assert (v21["min_version"], v21["version"]) == ("2.1", "2.104")
    doc = api.call("compute", "GET", "/v2.1/", token=None)
    assert doc.json["version"]["version"] == "2.104"


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, "2.1"),
    ({"X-OpenStack-Nova-API-Version": "2.60"}, "2.60"),
    ({"OpenStack-API-Version": "compute 2.72"}, "2.72"),
    ({"OpenStack-API-Version": "compute 2.72", "X-OpenStack-Nova-API-Version": "2.3"}, "2.72"),
    ({"OpenStack-API-Version": "compute latest"}, "2.104"),
])
def test_microversion_headers(api, headers, expected):
    resp = api.nova("GET", "/os-services", version=None, headers=headers)
    assert resp.status_code == 200
    assert resp.headers["X-OpenStack-Nova-API-Version"] == expected
    assert resp.headers["OpenStack-API-Version"] == f"compute {expected}"


def test_microversion_errors(api):
    assert api.nova("GET", "/os-services", version="2.105").status_code == 406
    assert api.nova("GET", "/os-services", version="two").status_code == 400


def test_missing_token_is_401(api):
    assert api.nova("GET", "/servers", token=None).status_code == 401


def test_services_list_filters_and_id_form(api):
    resp = api.nova("GET", "/os-services?binary=nova-compute&host=compute2")
    (service,) = resp.json["services"]
    assert service["host"] == "compute2"
    assert (service["state"], service["status"], service["forced_down"]) == (
        "up", "enabled", False)
    assert len(service["id"]) == 36
    old = api.nova("GET", "/os-services?binary=nova-compute", version="2.10")
    assert all(isinstance(s["id"], int) and "forced_down" not in s
               for s in old.json["services"])
    assert len(old.json["services"]) == 4


def test_service_update_253_force_down_and_disable(api, sim):
    uuid = api.nova("GET", "/os-services?host=compute1").json["services"][0]["id"]
    resp = api.nova("PUT", f"/os-services/{uuid}", {"forced_down": True})
    assert resp.status_code == 200
    assert resp.json["service"]["state"] == "down"
    assert resp.json["service"]["forced_down"] is True
    resp = api.nova("PUT", f"/os-services/{uuid}",
                    {"status": "disabled", "disabled_reason": "host-recovery"})
    assert resp.json["service"]["status"] == "disabled"
    assert resp.json["service"]["disabled_reason"] == "host-recovery"
    assert sim.notifications.wait_idle(5)
    assert [i[1] for i in sim.sink.items] == ["service.update", "service.update"]
    assert sim.sink.items[0][0] == "nova-compute:compute1"
    assert api.nova("PUT", "/os-services/1", {"forced_down": True}).status_code == 400
    assert api.nova("PUT", f"/os-services/{uuid}",
                    {"status": "enabled", "disabled_reason": "x"}).status_code == 400


def test_service_force_down_211_form(api):
    body = {"host": "compute3", "binary": "nova-compute", "forced_down": True}
    resp = api.nova("PUT", "/os-services/force-down", body, version="2.11")
    assert resp.status_code == 200
    assert resp.json["service"] == {"host": "compute3", "binary": "nova-compute",
                                    "forced_down": True}
    assert api.nova("PUT", "/os-services/force-down", body, version="2.10").status_code == 404
    services = api.nova("GET", "/os-services?host=compute3").json["services"]
    assert services[0]["state"] == "down"


def test_servers_all_tenants_host_filter_and_pagination(api, sim):
    own = api.nova("GET", "/servers").json["servers"]
    every = api.nova("GET", "/servers?all_tenants=1").json["servers"]
    assert 0 < len(own) < len(every) == 20
    on_host = api.nova("GET", "/servers/detail?host=compute2&all_tenants=1").json["servers"]
    assert len(on_host) == 5
    assert {s["OS-EXT-SRV-ATTR:host"] for s in on_host} == {"compute2"}
    seen, path = [], "/servers/detail?all_tenants=1&limit=3"
    while True:
        body = api.nova("GET", path).json
        seen += [s["id"] for s in body["servers"]]
        links = body.get("servers_links")
        if not links:
            break
        path = links[0]["href"].split("/v2.1", 1)[1]
        assert "limit=3" in path and "all_tenants=1" in path
    assert len(seen) == len(set(seen)) == 20
    assert api.nova("GET", "/servers?marker=nope").status_code == 400


def test_server_show_fields_per_microversion(api, sim):
    server = next(iter(sim.cloud.servers.values()))
    sim.cloud.flavors[server.flavor.id].extra_specs["hw:watchdog_action"] = "reset"
    old = api.server(server.id, version="2.1")
    assert set(old["flavor"]) == {"id", "links"}
    assert "locked" not in old and "properties" not in old["image"]
    assert old["OS-EXT-SRV-ATTR:host"] == server.host
    assert old["OS-EXT-SRV-ATTR:hypervisor_hostname"] == server.host
    new = api.server(server.id, version="2.98")
    assert new["flavor"]["extra_specs"]["hw:watchdog_action"] == "reset"
    assert new["flavor"]["original_name"] == server.flavor.name
    assert new["image"]["properties"] == server.image.properties
    assert new["locked"] is False and new["locked_reason"] is None
    assert new["host_status"] == "UP"
    assert api.nova("GET", "/servers/nope").status_code == 404


def test_lock_unlock_reason_and_reset_state(api, sim):
    server_id = next(iter(sim.cloud.servers))
    assert api.nova("POST", f"/servers/{server_id}/action",
                    {"lock": {"locked_reason": "incident 1"}}, version="2.72").status_code == 400
    assert api.nova("POST", f"/servers/{server_id}/action",
                    {"lock": {"locked_reason": "incident 1"}}, version="2.73").status_code == 202
    shown = api.server(server_id, version="2.73")
    assert (shown["locked"], shown["locked_reason"]) == (True, "incident 1")
    api.nova("POST", f"/servers/{server_id}/action", {"unlock": None})
    assert api.server(server_id, version="2.73")["locked"] is False
    assert api.nova("POST", f"/servers/{server_id}/action",
                    {"os-resetState": {"state": "error"}}).status_code == 202
    assert api.server(server_id)["status"] == "ERROR"
    assert api.nova("POST", f"/servers/{server_id}/action",
                    {"os-resetState": {"state": "stopped"}}).status_code == 400
    assert api.nova("POST", f"/servers/{server_id}/action", {"reboot": {}}).status_code == 400


def test_admin_resources(api, sim):
    aggs = api.nova("GET", "/os-aggregates", version="2.41").json["aggregates"]
    assert aggs[0]["hosts"] == ["compute1", "compute2", "compute3", "compute4"]
    assert aggs[0]["metadata"] == {"ha": "true"} and "uuid" in aggs[0]
    agg_id = aggs[0]["id"]
    resp = api.nova("POST", f"/os-aggregates/{agg_id}/action",
                    {"set_metadata": {"metadata": {"reserved": "true"}}})
    assert resp.json["aggregate"]["metadata"]["reserved"] == "true"
    flavors = api.nova("GET", "/flavors/detail", version="2.61").json["flavors"]
    assert any(f["extra_specs"].get("hw:cpu_policy") == "dedicated" for f in flavors)
    specs = api.nova("GET", f"/flavors/{flavors[2]['id']}/os-extra_specs").json
    assert specs["extra_specs"] == flavors[2]["extra_specs"]
    groups = api.nova("GET", "/os-server-groups?all_projects=1", version="2.64").json
    (group,) = groups["server_groups"]
    assert group["policy"] == "anti-affinity" and len(group["members"]) == 2
    hosts = {sim.cloud.servers[m].host for m in group["members"]}
    assert len(hosts) == 2
    old = api.nova("GET", f"/os-server-groups/{group['id']}", version="2.1").json
    assert old["server_group"]["policies"] == ["anti-affinity"]
    assert api.nova("GET", "/os-migrations").json == {"migrations": []}


def test_glance_image_show(api, sim):
    image = next(iter(sim.cloud.images.values()))
    resp = api.call("image", "GET", f"/v2/images/{image.id}")
    assert resp.status_code == 200
    assert resp.json["id"] == image.id
    assert resp.json["hw_architecture"] == "x86_64"
    assert api.call("image", "GET", f"/v2/images/{image.id}", token=None).status_code == 401
    assert api.call("image", "GET", "/v2/images/nope").status_code == 404


def test_request_log_counts_calls(api, sim):
    api.nova("GET", "/os-services")
    api.nova("GET", "/servers/nope")
    entries = sim.requests.entries()
    assert [(e["service"], e["method"], e["status"]) for e in entries[-2:]] == [
        ("compute", "GET", 200), ("compute", "GET", 404)]
    assert entries[-1]["microversion"] == "2.53"
    assert entries[-1]["path"] == "/v2.1/servers/nope"
    summary = sim.requests.summary()
    assert summary["by_service"]["identity"] == 1
