"""Health: stuck vs deliberately waiting incidents, dead-letter growth, rates, keys, exits."""

import argparse
import datetime as dt
import ssl

import pytest

from listener import health_probe, incident_health
from listener import service as listener_service
from listener.operator import health
from notifications import confirmed
from tests.unit.notifications.test_confirmed import FakeBroker

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def _ago(seconds):
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


class FakeMistral:
    def __init__(self, executions, tasks, subs=(), held=()):
        self.executions, self.tasks, self.subs, self.held = executions, tasks, subs, held

    def list_executions(self, fields=None, limit=None, **filters):
        if "root_execution_id" in filters:
            return [s for s in self.subs if s["root"] == filters["root_execution_id"]]
        return self.executions

    def list_action_executions(self, name, state="RUNNING", **kw):
        return [{"input": {"incident_id": i}} for i in self.held]

    def list_tasks(self, fields=None, **filters):
        if "workflow_execution_id" not in filters:  # every task in a state, any workflow
            return [dict(t, workflow_execution_id=ex) for ex, tasks in self.tasks.items()
                    for t in tasks if t["state"] == filters["state"]]
        return self.tasks.get(filters.get("workflow_execution_id"), [])


def _ex(ex_id, age, state="RUNNING"):
    return {"id": ex_id, "state": state, "input": {"incident_id": ex_id},
            "created_at": _ago(age), "updated_at": _ago(age)}


def test_idle_task_after_engine_crash_is_stuck_waiting_ones_are_not():
    api = FakeMistral(
        [_ex("crashed", 4000), _ex("capacity", 5000), _ex("held", 6000), _ex("busy", 4000),
         _ex("over", 9000, state="SUCCESS")],
        {"crashed": [{"name": "plan", "state": "SUCCESS", "updated_at": _ago(3900)},
                     {"name": "recover", "state": "IDLE", "updated_at": _ago(3900)}],
         "capacity": [{"name": "await_capacity", "state": "RUNNING_DELAYED",
                       "updated_at": _ago(4000)}],
         "busy": [{"name": "recover", "state": "RUNNING", "updated_at": _ago(3000)}]},
        subs=[{"root": "busy", "state": "RUNNING", "updated_at": _ago(10)}], held=["held"])
    report = incident_health.assess(api, stuck_after=1800, now=NOW)
    assert [s.incident_id for s in report.stuck] == ["crashed"]
    assert report.stuck[0].detail == "task(s) recover IDLE"
    assert report.unfinished == 4
    assert (report.oldest_incident, report.oldest_age) == ("held", 6000)


def test_a_task_idle_past_idle_task_after_in_a_running_workflow_is_a_lost_start():
    def sub(sub_id, root, state="RUNNING"):
        return {"id": sub_id, "root": root, "state": state, "updated_at": _ago(5)}

    def idle(age):
        return [{"name": "evacuate", "state": "IDLE", "created_at": _ago(age)}]

    api = FakeMistral(
        [_ex("blip", 200), _ex("replanned", 900), _ex("young", 100), _ex("capacity", 400)],
        {"blip": [{"name": "recover", "state": "RUNNING", "updated_at": _ago(190)}],
         "sub-blip": idle(150), "sub-cancelled": idle(500), "sub-young": idle(30),
         "capacity": [{"name": "await_capacity", "state": "RUNNING_DELAYED",
                       "updated_at": _ago(1)}],
         "sub-capacity": idle(300)},
        subs=[sub("sub-blip", "blip"), sub("sub-busy", "blip"),
              sub("sub-cancelled", "replanned", state="CANCELLED"),
              sub("sub-replan", "replanned"), sub("sub-young", "young"),
              sub("sub-capacity", "capacity")])
    # the other VMs' progress hides it from stuck_after: only the IDLE bound sees it
    assert incident_health.assess(api, stuck_after=1800, now=NOW).stuck == []
    report = incident_health.assess(api, stuck_after=1800, now=NOW, idle_task_after=120)
    assert {s.incident_id: (s.idle_for, s.detail) for s in report.stuck} == {
        "blip": (150.0, "task(s) evacuate IDLE, never started (Mistral lost the start: "
                 "engine crash or database restart)"),
        # waiting for capacity on purpose, but a start Mistral lost is never deliberate
        "capacity": (300.0, "task(s) evacuate IDLE, never started (Mistral lost the start: "
                     "engine crash or database restart)")}
    # an IDLE task left in a cancelled sub-workflow (a re-plan took its VM) is not trouble


def test_state_gives_growth_and_rate_between_runs(tmp_path):
    path = str(tmp_path / "state.json")
    first = health_probe.State(path)
    assert first.since("dead_letters", 2) is None
    first.current["at"] -= 60
    first.save()
    second = health_probe.State(path)
    change = second.since("dead_letters", 5)
    assert change is not None and change[0] == 3 and change[1] >= 59


def _conf(**health_opts):
    conf = listener_service.prepare_service([], setup_logging=False)
    conf.set_override("signing_keys", ["new:x"], group="host_down")
    conf.set_override("signing_key_id", "new", group="host_down")
    for name, value in health_opts.items():
        conf.set_override(name, value, group="health")
    return conf


def test_dead_letters_growing_is_critical_present_is_warning(monkeypatch, tmp_path):
    conf = _conf(state_file=str(tmp_path / "s"))
    depth = {"host_recovery.dead_letter": 0}
    monkeypatch.setattr(health_probe, "dead_letter_depths", lambda conf, timeout: dict(depth))
    state = health_probe.State(conf.health.state_file)
    assert health.check_dead_letters(conf, state, 1)[0] == health.OK
    state.save()
    depth["host_recovery.dead_letter"] = 2
    status, line = health.check_dead_letters(conf, health_probe.State(conf.health.state_file),
                                             1)
    assert status == health.CRITICAL and "+2" in line
    assert health.check_dead_letters(conf, health_probe.State(None), 1)[0] == health.WARNING


def test_broker_checks_connect_over_tls_to_the_first_broker_that_answers(monkeypatch):
    broker = FakeBroker(down=("h1",), depths={"host_recovery.dead_letter": 3})
    monkeypatch.setattr(confirmed, "Connection", broker)
    conf = _conf(dead_letter_queues=["other.dlq"])
    conf.set_override("transport_url", "rabbit://u:p@h1:5671,u:p@h2:5671/")
    conf.set_override("ssl", True, group="oslo_messaging_rabbit")
    conf.set_override("ssl_ca_file", "/etc/ca.pem", group="oslo_messaging_rabbit")
    assert health.check_broker(conf, 1) == (health.OK, "2 URL(s), connected")
    assert health_probe.dead_letter_depths(conf, 1) == {"host_recovery.dead_letter": 3,
                                                        "other.dlq": 0}  # not declared
    tls = {"ca_certs": "/etc/ca.pem", "cert_reqs": ssl.CERT_REQUIRED}
    assert broker.hosts() == [("h1", {**tls, "server_hostname": "h1"}),
                              ("h2", {**tls, "server_hostname": "h2"})] * 2
    assert broker.released == 4  # the refused ones and the used ones


def test_redelivery_rate_warns_above_the_bound():
    state = health_probe.State(None)
    state.previous = {"at": state.current["at"] - 60, "redeliveries": 10}
    samples = [{("host_recovery_redeliveries_total", (("reason", "internal"),)): 40.0},
               {("host_recovery_redeliveries_total", (("reason", "forged"),)): 20.0}]
    status, line = health.check_redeliveries(state, samples, per_minute=5)
    assert status == health.WARNING and line.startswith("50.0/min")


def test_late_host_downs_warn_when_any_since_the_last_run():
    late = "host_recovery_late_host_downs_total"
    state = health_probe.State(None)
    assert health.check_late(state, [{(late, ()): 2.0}])[0] == health.OK  # first run
    state.previous = {"at": state.current["at"] - 300, "late_host_downs": 2}
    status, line = health.check_late(state, [{(late, ()): 2.0}, {(late, ()): 1.0}])
    assert status == health.WARNING and line.startswith("+1 in the last 300 s")
    state.previous["late_host_downs"] = 3
    assert health.check_late(state, [{(late, ()): 3.0}])[0] == health.OK


def test_signatures_need_the_producers_key_on_every_listener():
    conf = _conf()
    key = ("host_recovery_signing_key_info", (("key_id", "new"),))
    old = ("host_recovery_signing_key_info", (("key_id", "old"),))
    assert health.check_signatures(conf, {"a": {key: 1.0}, "b": {key: 1.0, old: 1.0}})[0] \
        == health.OK
    status, line = health.check_signatures(conf, {"a": {key: 1.0}, "b": {old: 1.0}, "c": {}})
    assert status == health.CRITICAL
    assert line == "cannot verify: c; without key id 'new': b"


@pytest.mark.parametrize("statuses, code", [
    ([health.OK, health.OK], 0), ([health.OK, health.WARNING], 1),
    ([health.UNKNOWN, health.WARNING], 3), ([health.UNKNOWN, health.CRITICAL], 2),
])
def test_exit_code_is_the_worst_check_one_line_each(monkeypatch, capsys, statuses, code):
    conf = _conf()
    monkeypatch.setattr(health, "checks", lambda conf, api, state, timeout: [
        (f"c{i}", lambda s=s: (s, "detail")) for i, s in enumerate(statuses)])
    assert health.run(conf, argparse.Namespace(timeout=1.0)) == code
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [health.NAMES[s] for s in statuses]


def test_scrape_reads_a_real_exporter():
    import prometheus_client

    from listener.metrics import Metrics, start_exporter
    metrics = Metrics(prometheus_client.CollectorRegistry())
    metrics.set_signing_keys(["new"])
    exporter = start_exporter(metrics.registry, port=0)
    try:
        samples = health_probe.scrape(f"http://127.0.0.1:{exporter.port}/metrics", 5)
    finally:
        exporter.shutdown()
    assert samples[("host_recovery_signing_key_info", (("key_id", "new"),))] == 1.0
