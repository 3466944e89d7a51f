"""listener.status and the status command on a fake Mistral: states, VM rows, JSON, bar, CLI."""

import argparse
import io
import json

from listener import status
from listener.operator import status as status_command

INC_DONE, INC_RUN, INC_HELD, INC_SKIP = "i-done", "i-run", "i-held", "i-skip"


def _record(vm, result, **extra):
    return dict({"id": vm, "name": f"n-{vm}", "project_id": "p", "original_state": "active",
                 "final_state": "active" if result == "evacuated" else None,
                 "result": result, "source_host": "c1",
                 "dest_host": "c2" if result == "evacuated" else None, "attempts": 1,
                 "reason": None, "seconds": 3.5}, **extra)


class FakeMistral:
    def __init__(self):
        self.executions = [
            {"id": INC_DONE, "state": "SUCCESS", "input": {"incident_id": INC_DONE,
             "search_opts": {"host": "c1"}, "attempt": 1},
             "output": {"outcome": "done", "reason": "2 evacuated, 1 skipped",
                       "policy_violations": ["n-v2 (v2) on c2 breaks the soft-anti-affinity "
                                             "of server group g1"], "instances": [
                 _record("v1", "evacuated"), _record("v2", "evacuated"),
                 _record("v3", "skipped", reason="HA_Enabled=False")]}},
            {"id": INC_RUN, "state": "RUNNING", "input": {"incident_id": INC_RUN,
             "search_opts": {"host": "c3"}, "attempt": 1}, "output": {}},
            {"id": INC_HELD, "state": "RUNNING", "input": {"incident_id": INC_HELD,
             "search_opts": {"host": "c4"}}, "output": {}},
            {"id": INC_SKIP, "state": "SUCCESS", "input": {"incident_id": INC_SKIP,
             "search_opts": {"host": "c5"}}, "output": {"outcome": "skipped",
                                                       "reason": "host policy"}},
            {"id": "i-fail", "state": "ERROR", "input": {"incident_id": "i-fail",
             "search_opts": {"host": "c6"}}, "output": {"outcome": "failed", "instances": [
                 _record("v9", "failed", reason="NoValidHost: none")]}},
        ]
        self.subs = [
            {"id": "s1", "state": "SUCCESS", "output": {"record": _record("v4", "evacuated")}},
            {"id": "s2", "state": "RUNNING", "input": {"instance": {
                "id": "v5", "name": "n-v5", "original_state": "stopped"}, "source_host": "c3"}},
        ]

    def list_executions(self, **filters):
        assert filters.pop("include_output") == "true"
        if filters.get("workflow_name") == status.RECOVER_INSTANCE:
            assert filters["root_execution_id"] == INC_RUN
            return self.subs
        return self.executions

    def list_action_executions(self, name, state="RUNNING"):
        assert name == status.AWAIT_APPROVAL
        return [{"id": "a1", "input": {"incident_id": INC_HELD, "host": "c4"}}]

    def list_tasks(self, **filters):
        assert filters == {"workflow_execution_id": INC_RUN, "name": "plan"}
        return [{"published": json.dumps({"plan": {"instances": [
            {"id": "v4"}, {"id": "v5"}, {"id": "v6", "name": "n-v6"}]}})}]


def test_states_and_rows():
    incidents = {i.incident_id: i for i in status.collect(FakeMistral())}
    assert {k: v.state for k, v in incidents.items()} == {
        INC_DONE: "done", INC_RUN: "running", INC_HELD: "held", INC_SKIP: "skipped",
        "i-fail": "failed"}
    done = incidents[INC_DONE]
    assert done.counts["evacuated"] == 2 and done.counts["skipped"] == 1
    assert done.vms[0].dest_host == "c2" and done.vms[0].seconds == 3.5
    running = incidents[INC_RUN]
    assert [(v.id, v.result) for v in running.vms] == [
        ("v4", "evacuated"), ("v5", "running"), ("v6", "pending")]
    assert incidents["i-fail"].vms[0].reason == "NoValidHost: none"


def test_filters_by_host_and_incident():
    api = FakeMistral()
    assert [i.incident_id for i in status.collect(api, host="c1")] == [INC_DONE]
    assert [i.incident_id for i in status.collect(api, incident=INC_SKIP)] == [INC_SKIP]


def test_json_output_and_table():
    out = io.StringIO()
    args = argparse.Namespace(host=None, incident=INC_DONE, json=True, watch=False,
                              interval=1.0)
    assert status_command.run(None, args, api=FakeMistral(), out=out) == 0
    data = json.loads(out.getvalue())
    assert data[0]["state"] == "done" and data[0]["counts"]["evacuated"] == 2
    assert data[0]["vms"][0]["source_host"] == "c1"
    table = status.render_table(status.collect(FakeMistral(), host="c1"))
    assert "c1 -> c2" in table and "HA_Enabled=False" in table
    assert "policy violation: n-v2 (v2) on c2 breaks the soft-anti-affinity" in table
    assert data[0]["policy_violations"] == [
        "n-v2 (v2) on c2 breaks the soft-anti-affinity of server group g1"]


def test_watch_shows_a_progress_bar_and_ends_when_nothing_runs():
    api = FakeMistral()
    out = io.StringIO()
    calls = []

    def finish_after_first(**filters):
        calls.append(filters)
        return FakeMistral.list_executions(api, **filters)

    api.list_executions = finish_after_first
    status_command.watch(api, host="c3", incident=None, out=out, interval=0.01, timeout=0.05)
    assert "[" in out.getvalue() and "1/3" in out.getvalue()
    assert status.progress_bar(12, 40, width=10) == "[###.......]  12/40"
