"""The request log names server actions (never their arguments) and counts them."""

from __future__ import annotations

import json

from simulator.control_client import ControlClient
from simulator.requestlog import RequestLog
from tests.fixtures.simulator import WsgiClient


def _first(sim, host="compute1"):
    return next(s for s in sorted(sim.cloud.servers.values(), key=lambda s: s.seq)
                if s.host == host and s.server_group is None)


def test_actions_are_named_and_counted(api, sim):
    sim.cloud.fail_host("compute1", immediate=True)
    server = _first(sim)
    path = f"/servers/{server.id}/action"
    api.nova("GET", f"/servers/{server.id}")
    assert api.nova("POST", path, {"lock": {"locked_reason": "r"}}, version="2.73"
                    ).status_code == 202
    assert api.nova("POST", path, {"evacuate": {"onSharedStorage": False,
                                                "adminPass": "s3cret-pass"}},
                    version="2.1").status_code == 200
    assert api.nova("POST", path, {"evacuate": {}}, version="2.95").status_code == 409
    assert api.nova("POST", path, {"bogus": {}}).status_code == 400
    assert api.nova("POST", path, {"a": 1, "b": 2}).status_code == 400
    log = api.call("control", "GET", "/_sim/requests", token=None).json
    actions = [(e["action"], e["status"]) for e in log["entries"] if e["method"] == "POST"
               and e["path"].endswith("/action")]
    assert actions == [("lock", 202), ("evacuate", 200), ("evacuate", 409), ("bogus", 400),
                       (None, 400)]
    assert all(e["action"] is None for e in log["entries"] if not e["path"].endswith("/action"))
    assert log["summary"]["by_action"] == {"lock": 1, "evacuate": 2, "bogus": 1}
    assert log["summary"]["by_action_status"] == {"lock 202": 1, "evacuate 200": 1,
                                                  "evacuate 409": 1, "bogus 400": 1}
    assert "s3cret-pass" not in json.dumps(log)
    assert "secret" not in json.dumps(log)  # the admin's Keystone password


def test_request_body_still_reaches_the_api(api, sim):
    server = _first(sim)
    resp = api.nova("POST", f"/servers/{server.id}/action",
                    {"lock": {"locked_reason": "kept"}}, version="2.73")
    assert resp.status_code == 202
    assert server.locked_reason == "kept"


def test_summary_counts_survive_without_actions():
    log = RequestLog()
    log.add("compute", "GET", "/v2.1/servers", "2.95", 200, 0.01, 0.0)
    summary = log.summary()
    assert summary["by_action"] == {} and summary["by_action_status"] == {}
    assert log.entries()[0]["action"] is None


def test_control_client_server_actions_in_order(sim_factory):
    sim = sim_factory(serve=True)
    sim.cloud.fail_host("compute1", immediate=True)
    first, second = [s for s in sorted(sim.cloud.servers.values(), key=lambda s: s.seq)
                     if s.host == "compute1" and s.server_group is None][:2]
    api = WsgiClient(sim)
    for server in (second, first):
        api.nova("POST", f"/servers/{server.id}/action", {"evacuate": {}}, version="2.95")
    api.nova("POST", f"/servers/{first.id}/action", {"lock": None})
    ctl = ControlClient(sim.urls()["control"])
    evacuations = ctl.server_actions("evacuate")
    assert [(e["server_id"], e["status"], e["microversion"]) for e in evacuations] == [
        (second.id, 200, "2.95"), (first.id, 200, "2.95")]
    assert [e["action"] for e in ctl.server_actions()] == ["evacuate", "evacuate", "lock"]
    assert ctl.server_actions("evacuate", since=evacuations[0]["seq"])[0]["server_id"] \
        == first.id
