"""The re-plan after a stuck recover step, and the per-process Nova session cache."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from host_recovery_actions import config, runtime
from host_recovery_actions.replan import ReplanAction
from host_recovery_actions.report import collect
from tests.unit.workflow.fakes import FakeMistral, FakeNova, runtime_with

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="wf-1", task_execution_id="t-1", action_execution_id="a-1"))


def _planned(sid: str) -> dict[str, Any]:
    return {"id": sid, "name": sid, "project_id": "p", "original_state": "active",
            "source_host": "c1", "result": None}


def _record(sid: str, attempts: int = 1) -> dict[str, Any]:
    return {"record": dict(_planned(sid), result="evacuated", attempts=attempts,
                           dest_host="c2")}


def test_replan_cancels_stuck_instance_workflows_and_keeps_only_vms_without_a_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mistral = FakeMistral()
    mistral.children = {"recover-1": ["sub-a", "sub-b"]}
    rt, _ = runtime_with(FakeNova([]), mistral, "[recovery]\ninstance_timeout = 20\n",
                         tmp_path)
    monkeypatch.setattr(runtime, "FACTORY", lambda: rt)
    plan = {"instances": [_planned("a"), _planned("b"), _planned("c")], "concurrency": 2,
            "skipped": [], "recover_timeout": 70, "settings": {"replan_attempts": 2}}
    out = ReplanAction("inc", "c1", plan, [_record("a"), None], "recover-1", 1).run(CTX)
    assert [i["id"] for i in out["instances"]] == ["b", "c"]
    assert mistral.cancelled == ["sub-a", "sub-b"] and out["cancelled"] == mistral.cancelled
    assert out["recover_timeout"] == 20 * 1 + 30 and out["replan"] == 1
    assert out["settings"] == plan["settings"]


def test_report_merges_rounds_one_line_per_vm_later_rounds_win() -> None:
    plan = {"instances": [_planned("b"), _planned("c")], "skipped": []}
    results = [_record("a"), {"record": None}, _record("b", attempts=2)]
    lines = {line["id"]: line for line in collect(plan, results, "c1")}
    assert set(lines) == {"a", "b", "c"}
    assert lines["b"]["attempts"] == 2 and lines["b"]["result"] == "evacuated"
    assert lines["c"]["result"] == "failed" and "no result" in lines["c"]["reason"]


def _conf(tmp_path: Path, password: str) -> Any:
    path = tmp_path / f"{password}.conf"
    path.write_text("[nova]\nauth_type = password\nauth_url = http://keystone/v3\n"
                    f"username = admin\npassword = {password}\nproject_name = admin\n"
                    "user_domain_name = Default\nproject_domain_name = Default\n"
                    "endpoint_override = http://nova/v2.1\n")
    return config.load(str(path))


def test_the_nova_session_is_kept_per_process_and_per_nova_options(tmp_path: Path) -> None:
    first = runtime.cached_nova(_conf(tmp_path, "one"))
    assert runtime.cached_nova(_conf(tmp_path, "one")) is first
    other = runtime.cached_nova(_conf(tmp_path, "two"))
    assert other is not first
    assert other._session is not first._session
