"""Nova's service heartbeat: updated_at advances every report interval while the host is
up and on every update, stops while it is failed, resumes when it is revived."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.fixtures.simulator import WsgiClient


@pytest.fixture
def clocked(sim_factory):
    """A simulator on fake wall and monotonic clocks: (client, advance(seconds))."""
    sim = sim_factory({"report_interval": 10.0, "service_down_time": 60.0})
    now = {"wall": time.time(), "mono": 1000.0}
    sim.cloud.wall = lambda: now["wall"]
    sim.cloud.clock = lambda: now["mono"]

    def advance(seconds):
        now["wall"] += seconds
        now["mono"] += seconds

    return WsgiClient(sim), advance


def _service(api, host="compute1"):
    return api.nova("GET", f"/os-services?host={host}&binary=nova-compute").json["services"][0]


def _updated(api, host="compute1"):
    return datetime.fromisoformat(_service(api, host)["updated_at"])


def test_updated_at_advances_every_report_interval_while_up(clocked):
    api, advance = clocked
    first = _updated(api)
    advance(4)
    assert _updated(api) == first  # no report yet
    advance(7)
    second = _updated(api)
    assert 10 <= (second - first).total_seconds() <= 11
    advance(30)
    assert (_updated(api) - second).total_seconds() == 30
    assert _service(api)["updated_at"].endswith(".000000")  # Nova's format, whole seconds


def test_updated_at_stops_while_failed_and_resumes_on_revival(clocked):
    api, advance = clocked
    advance(25)
    api.sim.cloud.fail_host("compute1")
    frozen = _updated(api)
    advance(59)
    assert _service(api)["state"] == "up"  # not yet service_down_time
    advance(120)
    view = _service(api)
    assert view["state"] == "down" and _updated(api) == frozen
    api.sim.cloud.revive_host("compute1")
    revived = _updated(api)
    assert revived > frozen and _service(api)["state"] == "up"
    advance(10)
    assert (_updated(api) - revived).total_seconds() == 10


def test_updated_at_moves_on_every_update_even_when_failed(clocked):
    api, advance = clocked
    api.sim.cloud.fail_host("compute1", immediate=True)
    before = _updated(api)
    advance(3)
    svc = _service(api)
    resp = api.nova("PUT", f"/os-services/{svc['id']}", {"forced_down": True})
    assert resp.status_code == 200
    written = datetime.fromisoformat(resp.json["service"]["updated_at"])
    assert written > before and resp.json["service"]["state"] == "down"
    advance(100)
    assert _updated(api) == written  # a dead host does not report
    resp = api.nova("PUT", f"/os-services/{svc['id']}", {"status": "disabled",
                                                         "disabled_reason": "x"})
    assert datetime.fromisoformat(resp.json["service"]["updated_at"]) > written


def test_forced_down_live_host_keeps_reporting(clocked):
    """Nova's report loop runs whatever forced_down says: a host that is back shows it."""
    api, advance = clocked
    svc = _service(api)
    resp = api.nova("PUT", f"/os-services/{svc['id']}", {"forced_down": True})
    written = datetime.fromisoformat(resp.json["service"]["updated_at"])
    advance(10)
    view = _service(api)
    assert view["state"] == "down" and datetime.fromisoformat(view["updated_at"]) > written


def test_report_interval_is_an_option(clocked):
    """Changed at runtime, the new pace counts from the last report."""
    api, advance = clocked
    resp = api.call("control", "PUT", "/_sim/config", {"report_interval": 2.0}, token=None)
    assert resp.status_code == 200 and resp.json["report_interval"] == 2.0
    before = _updated(api)
    advance(1)
    assert _updated(api) == before
    advance(1)
    assert (_updated(api) - before).total_seconds() == 2
