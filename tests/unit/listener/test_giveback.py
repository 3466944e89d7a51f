"""The listener's give-back on fakes: which hosts, once per incident, bounded per round."""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from listener import giveback
from listener.conf import giveback as giveback_conf
from notifications.contract import GIVE_BACK, RECOVER_HOST, MistralRejected


def _ex(host: str, incident: str, state: str = "SUCCESS", forced: bool = True,
        at: str = "2026-01-01 00:01:00") -> dict[str, Any]:
    return {"id": f"ex-{incident}", "state": state, "created_at": at, "updated_at": at,
            "input": {"incident_id": incident, "search_opts": {"host": host}},
            "output": {"fence": {"forced_down": forced}}}


def _run(host: str, incident: str | None, cleared: bool, forced_down: bool = True,
         at: str = "2026-01-01 00:02:00") -> dict[str, Any]:
    return {"created_at": at, "state": "SUCCESS", "output": {"result": {
        "host": host, "cleared": cleared, "incident_id": incident,
        "service": {"forced_down": forced_down}}}}


def test_pending_takes_the_latest_ended_incident_that_forced_down() -> None:
    executions = [_ex("c1", "i1", at="2026-01-01 00:00:00"), _ex("c1", "i2", forced=False),
                  _ex("c2", "i3"), _ex("c3", "i4", state="RUNNING"), _ex("c4", "i5")]
    assert [(c.host, c.incident_id) for c in giveback.pending(executions, [])] == [
        ("c2", "i3"), ("c4", "i5")]


def test_pending_skips_settled_incidents_only() -> None:
    executions = [_ex("c1", "i1"), _ex("c2", "i2"), _ex("c3", "i3"), _ex("c4", "i4")]
    runs = [_run("c1", "i1", True),                   # given back
            _run("c2", None, False, forced_down=False),  # cleared by someone else since
            _run("c3", "i3", False),                  # not yet: retried
            _run("c4", None, False, forced_down=False, at="2026-01-01 00:00:30")]  # before
    assert [c.host for c in giveback.pending(executions, runs)] == ["c3", "c4"]
    still = {"state": "RUNNING", "input": {"host": "c3"}, "output": None}
    assert [c.host for c in giveback.pending(executions, [*runs, still])] == ["c4"]


class FakeMistral:
    def __init__(self, executions: list[dict[str, Any]]) -> None:
        self.executions = executions
        self.runs: list[dict[str, Any]] = []
        self.calls: list[str] = []

    def list_executions(self, **filters: str) -> list[dict[str, Any]]:
        assert filters["workflow_name"] == RECOVER_HOST and filters["include_output"]
        return self.executions

    def list_action_executions(self, name: str, state: str | None = "RUNNING",
                               **filters: str) -> list[dict[str, Any]]:
        assert name == GIVE_BACK and state is None and filters["include_output"]
        return self.runs

    def start_action(self, name: str, action_input: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
        host = str((action_input or {})["host"])
        self.calls.append(host)
        if host == "bad":
            raise MistralRejected(400, "boom")
        incident = next(e["input"]["incident_id"] for e in self.executions
                        if e["input"]["search_opts"]["host"] == host)
        result = {"host": host, "cleared": True, "incident_id": incident, "reason": "ok",
                  "service": {"forced_down": True}}
        self.runs.append({"created_at": "2026-01-01 00:03:00", "state": "SUCCESS",
                          "input": {"host": host}, "output": {"result": result}})
        return {"id": f"a-{host}", "state": "RUNNING"}


def _conf(batch: int) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    giveback_conf.register_opts(conf)
    conf([])
    conf.set_override("max_per_round", batch, "giveback")
    return conf


def test_rounds_are_bounded_and_give_each_incident_back_once() -> None:
    api = FakeMistral([_ex("bad", "i0", at="2026-01-01 00:00:00")]
                      + [_ex(f"c{n}", f"i{n}") for n in range(1, 4)])
    worker = giveback.GiveBack(_conf(2), api)
    assert [c.host for c in worker.round()] == ["c1"]  # "bad" failed, the round went on
    assert api.calls == ["bad", "c1"]
    worker.round()  # "bad" waits its turn: it does not hold a slot every round
    worker.round()
    assert api.calls == ["bad", "c1", "c2", "c3", "bad"]
