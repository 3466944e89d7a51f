"""Shadow mode (host policy ``mode: plan``): validated like every field, the gate answers
``plan`` and the guard does not count the host, the report lists the plan and changes
nothing; and the report names the VMs that only waited for room."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from host_recovery_actions import host_policy, policy
from host_recovery_actions.gate import GateAction
from host_recovery_actions.report import ReportAction
from notifications import recovery_events
from tests.unit.workflow.fakes import FakeMistral, FakeNova

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="e2", task_execution_id="t-1", action_execution_id="a-1"))


def test_mode_is_validated_and_resolved_like_every_host_field(tmp_path: Path) -> None:
    assert policy.coerce("mode", " PLAN ") == ("plan", None)
    assert policy.coerce("mode", "dry-run") == (None, "is not recover or plan")
    rules = [{"match": "c1", "mode": "shadow"}]
    aggregates = [{"id": 1, "name": "lab", "hosts": ["c1", "c2"],
                   "metadata": {"host_recovery:mode": "plan"}}]
    hp = policy.resolve_host_policy("c1", rules, aggregates)
    # the rule's bad value is named and ignored, the aggregate decides
    assert (hp.mode, hp.sources["mode"]) == ("plan", "aggregate:lab")
    assert any("mode=shadow is not recover or plan" in w for w in hp.warnings)
    assert policy.resolve_host_policy("c3", rules, aggregates).mode == "recover"
    path = tmp_path / "hp.yaml"
    path.write_text("hosts:\n  - match: c1\n    mode: dry-run\n")
    assert host_policy.check(str(path)) == [
        f"host policy file {path}: rule 'c1': mode=dry-run is not recover or plan"]


def test_the_gate_answers_plan_and_the_guard_does_not_count_shadow_hosts(
        use: Any, tmp_path: Path) -> None:
    policy_file = tmp_path / "hp.yaml"
    policy_file.write_text("hosts:\n  - match: c1\n    mode: plan\n")
    executions = [{"id": f"e{n}", "created_at": f"2024-01-01 10:00:0{n}",
                   "input": {"search_opts": {"host": f"c{n}"}, "attempt": 1}}
                  for n in (1, 2)]
    use(FakeNova([]), FakeMistral(executions),
        f"[policy]\nhost_policy_file = {policy_file}\n[guard]\nmax_hosts = 1\n")
    # c1 (shadow) failed first: without it c2 is host 1 of 1, within the limit
    assert GateAction("i", "c2").run(CTX)["decision"] == "proceed"
    CTX.execution.workflow_execution_id = "e1"
    gate = GateAction("i", "c1", attempt=2).run(CTX)
    assert gate["decision"] == "plan" and "host-policy:c1" in gate["reason"]
    assert gate["host_policy"]["mode"] == "plan"


def test_the_report_of_a_shadow_incident_lists_the_plan(use: Any) -> None:
    nova = FakeNova([])
    notes = use(nova)
    plan = {"instances": [{"id": "a", "name": "a", "tier": 1, "target_host": "c5"}],
            "pending": [{"id": "b", "name": "b", "tier": 0, "target_host": "c6"}],
            "waiting": [{"id": "w", "name": "w", "waiting_reason": "no host has room"}],
            "skipped": [{"id": "s", "result": "skipped", "reason": "disabled"}]}
    out = ReportAction("i", "c1", "planned", plan=plan, results=[]).run(CTX)
    assert out["outcome"] == "planned" and out["failed"] is False
    assert out["summary"] == {"total": 4, "evacuated": 0, "failed": 0, "skipped": 1,
                              "planned": 2, "waiting_for_capacity": 1}
    lines = {line["id"]: line for line in out["instances"]}
    assert (lines["a"]["result"], lines["a"]["dest_host"]) == ("planned", "c5")
    assert lines["b"]["dest_host"] == "c6"
    assert lines["w"]["result"] == "waiting_for_capacity"
    assert "nothing evacuated" in out["reason"]
    assert [n[0] for n in notes] == ["host_recovery.incident.end"]
    assert notes[0][1]["outcome"] == "planned"
    recovery_events.validate(*notes[0])
    assert nova.calls == []  # nothing read from or changed in Nova


def test_the_report_says_which_failed_vms_only_waited_for_room(use: Any) -> None:
    use(FakeNova([]))
    plan = {"instances": [{"id": "a", "name": "a"}, {"id": "b", "name": "b"}]}
    out = ReportAction("i", "c1", "recovered", plan=plan, results=[
        {"record": {"id": "a", "result": "evacuated"}},
        {"record": {"id": "b", "result": "not_recovered", "reason": "no room"}}]).run(CTX)
    assert out["outcome"] == "failed"
    assert out["reason"] == "1 of 2 VMs failed (1 not recovered: no room, left as they were)"
