"""The actions on a fake Nova: fencing, planning, idempotent evacuation, waits, restore."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from host_recovery_actions.gate import GateAction
from host_recovery_actions.instance import (
    EvacuateAction,
    FinishInstanceAction,
    PrepareInstanceAction,
    RestoreStateAction,
)
from host_recovery_actions.plan import PlanAction
from host_recovery_actions.report import ReportAction
from host_recovery_actions.wait import PollEvacuationAction, WaitEvacuationAction
from tests.unit.workflow.fakes import FakeMistral, FakeNova, server

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="wf-1", task_execution_id="t-1", action_execution_id="a-1"))
# the ``use`` fixture (install fakes into the runtime) is in conftest.py


def test_plan_orders_by_priority_and_explains_skips(use: Any) -> None:
    nova = FakeNova([server("a", name="a"), server("b", name="b", vm_state="paused"),
                     server("c", name="c", metadata={"host_recovery:priority": "3"}),
                     server("d", host="c2")], version="2.12")
    notes = use(nova)
    plan = PlanAction("i", "c1", on_shared_storage=True).run(CTX)
    assert [p["id"] for p in plan["instances"]] == ["c", "a"]
    assert [(s["id"], s["result"]) for s in plan["skipped"]] == [("b", "skipped")]
    assert "paused" in plan["skipped"][0]["reason"]
    assert plan["on_shared_storage"] == {"value": True, "source": "incident", "sent": True}
    assert [n[0] for n in notes] == ["host_recovery.incident.start",
                                     "host_recovery.instance.skipped"]


def test_plan_uses_target_hosts_that_are_up(use: Any, tmp_path: Path) -> None:
    policy_file = tmp_path / "hp.yaml"
    policy_file.write_text("hosts:\n  - match: c1\n    target_hosts: [c3, c9]\n"
                           "    max_concurrency: 3\n")
    nova = FakeNova([server("a"), server("b")])
    use(nova, conf=f"[policy]\nhost_policy_file = {policy_file}\n")
    plan = PlanAction("i", "c1").run(CTX)
    assert {p["target_host"] for p in plan["instances"]} == {"c3"}
    assert plan["concurrency"] == 3
    assert plan["on_shared_storage"]["sent"] is False  # 2.95: Nova decides


def test_gate_skips_a_disabled_host_and_holds_beyond_the_guard(use: Any,
                                                                tmp_path: Path) -> None:
    policy_file = tmp_path / "hp.yaml"
    policy_file.write_text("hosts:\n  - match: c3\n    enabled: false\n")
    executions = [{"id": f"e{n}", "created_at": f"2024-01-01 10:00:0{n}",
                   "input": {"search_opts": {"host": f"c{n}"}, "attempt": 1}}
                  for n in (1, 2, 3)]
    nova = FakeNova([])
    use(nova, FakeMistral(executions),
        f"[policy]\nhost_policy_file = {policy_file}\n[guard]\nmax_hosts = 1\n")
    ctx = SimpleNamespace(execution=SimpleNamespace(workflow_execution_id="e2"))
    held = GateAction("i", "c2").run(ctx)
    assert held["decision"] == "hold" and held["rank"] == 2
    ctx.execution.workflow_execution_id = "e3"
    assert GateAction("i", "c3").run(ctx)["decision"] == "skip"
    assert GateAction("i", "c2", attempt=2).run(ctx)["decision"] == "proceed"


def test_prepare_locks_with_the_incident_and_resets_when_planned(use: Any) -> None:
    nova = FakeNova([server("a", vm_state="error"), server("u", locked=True,
                                                           locked_reason="user")])
    use(nova)
    out = PrepareInstanceAction("inc-1", {"id": "a", "action": "reset"}, "c1").run(CTX)
    assert out["locked_by_us"] and "inc-1" in nova.servers["a"]["locked_reason"]
    assert nova.servers["a"]["OS-EXT-STS:vm_state"] == "active"
    user = PrepareInstanceAction("inc-1", {"id": "u", "action": "evacuate"}, "c1").run(CTX)
    assert user["locked_by_us"] is False and nova.servers["u"]["locked_reason"] == "user"


def test_evacuate_rerun_never_evacuates_twice(use: Any) -> None:
    nova = FakeNova([server("a")], instant=False)
    use(nova)
    action = EvacuateAction("i", {"id": "a"}, "c1")
    assert action.run(CTX)["status"] == "accepted"
    assert action.run(CTX)["status"] == "in_progress"
    nova.finish("a")
    assert action.run(CTX)["status"] == "moved"
    assert nova.count("evacuate") == 1


def test_evacuate_after_a_failed_rebuild_is_a_new_attempt(use: Any) -> None:
    nova = FakeNova([server("a")], instant=False)
    use(nova)
    action = EvacuateAction("i", {"id": "a"}, "c1")
    action.run(CTX)
    nova.finish("a", error="Virtual Interface creation failed")
    assert action.run(CTX)["status"] == "accepted"
    assert nova.count("evacuate") == 2


def test_evacuate_refuses_states_nova_refuses_with_the_reason(use: Any) -> None:
    use(FakeNova([server("a", vm_state="paused")]))
    out = EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    assert out["status"] == "refused" and "paused" in out["reason"]


def test_wait_completes_itself_when_nova_already_finished(use: Any) -> None:
    nova = FakeNova([server("a")])
    mistral = FakeMistral()
    use(nova, mistral)
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    WaitEvacuationAction("a", "i", "c1").run(CTX)
    assert mistral.completed == [("a-1", "SUCCESS", {
        "result": "evacuated", "host": "c2", "vm_state": "stopped", "fault": None,
        "via": "check"})]


def test_wait_stays_running_while_rebuilding(use: Any) -> None:
    nova = FakeNova([server("a")], instant=False)
    mistral = FakeMistral()
    use(nova, mistral)
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    assert WaitEvacuationAction("a", "i", "c1").is_sync() is False
    WaitEvacuationAction("a", "i", "c1").run(CTX)
    assert mistral.completed == []


def test_poll_ends_the_stale_wait_then_reports_nova_errors(use: Any) -> None:
    nova = FakeNova([server("a")], instant=False)
    mistral = FakeMistral()
    mistral.running = [{"id": "w1", "input": {"instance_id": "a", "incident_id": "i"}},
                       {"id": "w2", "input": {"instance_id": "b", "incident_id": "i"}}]
    use(nova, mistral, "[recovery]\npoll_interval = 0.01\npoll_limit = 1\n")
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    nova.finish("a", error="No valid host was found.")
    out = PollEvacuationAction("a", "i", "c1").run(CTX)
    assert out["result"] == "error" and out["fault"] == "No valid host was found."
    assert [c[0:2] for c in mistral.completed] == [("w1", "ERROR")]


def test_poll_is_bounded(use: Any) -> None:
    nova = FakeNova([server("a")], instant=False)
    use(nova, FakeMistral(), "[recovery]\npoll_interval = 0.01\npoll_limit = 1\n")
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    assert PollEvacuationAction("a", "i", "c1").run(CTX)["result"] == "timeout"


@pytest.mark.parametrize("version,original,calls", [
    ("2.95", "active", ["start"]), ("2.95", "stopped", []),
    ("2.53", "active", []), ("2.53", "stopped", []),
])
def test_restore_brings_back_the_original_state(use: Any, version: str, original: str,
                                                calls: list[str]) -> None:
    nova = FakeNova([server("a", vm_state=original)], version=version)
    use(nova)
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    out = RestoreStateAction("i", {"id": "a"}, "c1", expected_state=original).run(CTX)
    assert out == {"final_state": original, "host": "c2"}
    assert [c for c, _ in nova.calls if c in ("start", "stop")] == calls


def test_finish_unlocks_only_what_we_locked_and_notifies(use: Any) -> None:
    nova = FakeNova([server("a", locked=True, locked_reason="host-recovery incident i")])
    notes = use(nova)
    record = FinishInstanceAction(
        "i", {"id": "a", "name": "vm-a", "original_state": "active"}, "c1",
        result="evacuated", outcome={"host": "c2", "vm_state": "active"},
        final_state="active", attempts=1, locked_by_us=True).run(CTX)
    assert record["dest_host"] == "c2" and record["result"] == "evacuated"
    assert nova.count("unlock") == 1
    assert notes[0][0] == "host_recovery.instance.evacuated"
    FinishInstanceAction("i", {"id": "a"}, "c1", result="failed", reason="boom").run(CTX)
    assert nova.count("unlock") == 1


def test_report_counts_and_marks_missing_results_failed(use: Any) -> None:
    notes = use(FakeNova([]))
    plan = {"instances": [{"id": "a", "name": "a"}, {"id": "b", "name": "b"}],
            "skipped": [{"id": "c", "result": "skipped", "reason": "x"}]}
    out = ReportAction("i", "c1", "recovered", plan=plan, results=[
        {"record": {"id": "a", "result": "evacuated"}}, None]).run(CTX)
    assert out["summary"] == {"total": 3, "evacuated": 1, "failed": 1, "skipped": 1}
    assert out["outcome"] == "failed" and out["failed"] is True
    assert [n[0] for n in notes] == ["host_recovery.incident.error",
                                     "host_recovery.incident.end"]


def test_report_carries_the_soft_policy_violations_of_the_plan(use: Any) -> None:
    notes = use(FakeNova([]))
    broke = "a (a) on c2 breaks the soft-anti-affinity of server group g"
    plan = {"instances": [{"id": "a", "name": "a"}], "violations": [broke, broke]}
    out = ReportAction("i", "c1", "recovered", plan=plan, results=[
        {"record": {"id": "a", "result": "evacuated"}}]).run(CTX)
    assert out["outcome"] == "done" and out["policy_violations"] == [broke]
    assert notes[-1][0] == "host_recovery.incident.end"
    assert notes[-1][1]["policy_violations"] == [broke]
