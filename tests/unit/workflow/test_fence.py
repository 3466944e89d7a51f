"""The fence step on a fake Nova: only fresh fencing evidence (or the per-host unfenced
opt-in after continuous down) lets a recovery evacuate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from host_recovery_actions import evidence, runtime
from host_recovery_actions.fence import FenceAction
from tests.unit.workflow.fakes import FakeNova, runtime_with

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="wf-1", task_execution_id="t-1", action_execution_id="a-1"))
FAILED = "2025-01-15T10:30:00Z"


def pacemaker(completed_at: str = "2025-01-15T10:30:20Z", target: str = "c1",
              action: str = "reboot") -> dict[str, Any]:
    return {"kind": "pacemaker_fencing", "target": target, "action": action,
            "completed_at": completed_at, "executioner": "ctl-2", "origin": "ctl-1",
            "by": None, "incident_id": None}


@pytest.fixture
def use(tmp_path: Path) -> Iterator[Callable[..., FakeNova]]:
    def install(state: str = "down", policy_text: str | None = None, forced: bool = False
                ) -> FakeNova:
        nova = FakeNova([])
        nova.services[0].update(state=state, forced_down=forced,
                                updated_at="2025-01-15T10:29:50.000000")
        conf = "[recovery]\npoll_interval = 0.01\n"
        policy_file = tmp_path / "policy.yaml"
        if policy_text is not None:
            policy_file.write_text(policy_text)
        conf += f"[policy]\nhost_policy_file = {policy_file}\n"
        rt, _ = runtime_with(nova, None, conf, tmp_path)
        runtime.FACTORY = lambda: rt
        return nova

    original = runtime.FACTORY
    yield install
    runtime.FACTORY = original


def test_down_in_nova_without_evidence_evacuates_nothing(use: Callable[..., FakeNova]
                                                         ) -> None:
    nova = use(state="down")
    result = FenceAction("i", "c1", failure_time=FAILED).run(CTX)
    assert (result["fenced"], result["outcome"], result["evidence"]) == (
        False, "not_fenced", None)
    assert "down in Nova is not proof" in result["reason"]
    assert nova.count("force_down") == 0


def test_forced_down_by_someone_else_is_not_evidence(use: Callable[..., FakeNova]) -> None:
    use(state="down", forced=True)
    result = FenceAction("i", "c1", failure_time=FAILED).run(CTX)
    assert result["outcome"] == "not_fenced"


def test_a_live_host_without_evidence_is_refused(use: Callable[..., FakeNova]) -> None:
    nova = use(state="up")
    result = FenceAction("i", "c1", failure_time=FAILED).run(CTX)
    assert result["outcome"] == "refused" and "live host" in result["reason"]
    assert nova.count("force_down") == 0


def test_fresh_pacemaker_evidence_forces_down_and_is_reported(use: Callable[..., FakeNova]
                                                              ) -> None:
    nova = use(state="up")  # Nova has not noticed yet (or a reboot is already back): the
    # fencing seconds ago is the proof
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = FenceAction("i", "c1", fencing_confirmed=True,
                         fencing_evidence=pacemaker(completed_at=now), failure_time=now).run(CTX)
    assert result["fenced"] and result["forced_down"] and result["proven_dead"]
    assert result["evidence"]["kind"] == "pacemaker_fencing"
    assert nova.count("force_down") == 1


@pytest.mark.parametrize("record,why", [
    (pacemaker(completed_at="2025-01-14T08:00:00Z"), "before the failure"),
    (pacemaker(target="c2"), "about c2"),
    (dict(pacemaker(), kind="nova_force_down", incident_id="other"), "not by this one"),
    (dict(pacemaker(), action="on"), "is not off or reboot"),
    (dict(pacemaker(), action=None), "action: required"),
    (dict(pacemaker(), completed_at="2025-01-15T10:30:20"), "needs a UTC offset"),
])
def test_stale_or_foreign_evidence_proves_nothing(use: Callable[..., FakeNova],
                                                  record: dict[str, Any], why: str) -> None:
    nova = use(state="down")
    result = FenceAction("i", "c1", fencing_confirmed=True, fencing_evidence=record,
                         failure_time=FAILED).run(CTX)
    assert result["outcome"] == "not_fenced" and why in result["reason"]
    assert nova.count("force_down") == 0


def test_approval_after_the_host_came_back_needs_operator_evidence(
        use: Callable[..., FakeNova]) -> None:
    nova = use(state="up")  # held for days; the host rebooted and nova-compute runs again
    approval = {"approved": True, "by": "ops"}
    stale = FenceAction("i", "c1", fencing_confirmed=True, fencing_evidence=pacemaker(),
                        failure_time=FAILED, approval=approval).run(CTX)
    assert stale["outcome"] == "refused" and "up again" in stale["reason"]
    assert nova.count("force_down") == 0
    fenced = dict(approval, fencing_evidence=evidence.operator(
        "c1", "ops@ctl-1", "2025-01-20T09:00:00Z"))
    ok = FenceAction("i", "c1", fencing_confirmed=True, fencing_evidence=pacemaker(),
                     failure_time=FAILED, approval=fenced).run(CTX)
    assert ok["fenced"] and ok["evidence"]["kind"] == "operator"
    assert ok["evidence"]["by"] == "ops@ctl-1" and nova.count("force_down") == 1


def test_a_late_host_down_whose_host_runs_again_is_refused(use: Callable[..., FakeNova]
                                                           ) -> None:
    # delivered hours after the fencing (listeners were down): first attempt, no approval
    nova = use(state="up")
    late = FenceAction("i", "c1", fencing_confirmed=True, fencing_evidence=pacemaker(),
                       failure_time=FAILED).run(CTX)
    assert late["outcome"] == "refused" and "up again" in late["reason"]
    assert nova.count("force_down") == 0


def test_approval_while_the_host_is_still_down_keeps_the_evidence(
        use: Callable[..., FakeNova]) -> None:
    use(state="down")
    result = FenceAction("i", "c1", fencing_evidence=pacemaker(), failure_time=FAILED,
                         approval={"approved": True, "by": "ops"}).run(CTX)
    assert result["fenced"] and result["evidence"]["kind"] == "pacemaker_fencing"


def test_our_own_force_down_is_evidence_for_a_rerun_of_the_same_incident(
        use: Callable[..., FakeNova]) -> None:
    use(state="down", forced=True)
    ours = dict(pacemaker(), kind="nova_force_down", action=None, incident_id="i")
    result = FenceAction("i", "c1", fencing_evidence=ours, failure_time=FAILED).run(CTX)
    assert result["fenced"] and not result["forced_down"]


def test_a_bare_confirmation_without_a_record_is_not_evidence(use: Callable[..., FakeNova]
                                                              ) -> None:
    use(state="down")
    result = FenceAction("i", "c1", fencing_confirmed=True, failure_time=FAILED).run(CTX)
    assert not result["fenced"] and result["outcome"] == "not_fenced"
    assert any("claim, not evidence" in why for why in result["rejected"])


OPT_IN = "hosts:\n  - match: 'c*'\n    unfenced_recovery: allow\n    require_down_for: 0\n"


def test_unfenced_opt_in_proceeds_when_continuously_down_and_says_so(
        use: Callable[..., FakeNova]) -> None:
    nova = use(state="down", policy_text=OPT_IN)
    result = FenceAction("i", "c1", failure_time=FAILED).run(CTX)
    assert result["fenced"] and result["evidence"] == "unfenced_opt_in"
    assert not result["proven_dead"] and "UNFENCED" in result["reason"]
    assert nova.count("force_down") == 0  # no proof: we do not claim it is dead


def test_unfenced_opt_in_stops_when_the_service_heartbeats_during_the_wait(
        use: Callable[..., FakeNova]) -> None:
    nova = use(state="down", policy_text=OPT_IN.replace(": 0", ": 5"))
    reads = iter([0, 1, 2])
    original = nova.compute_services

    def heartbeat(host: str | None = None) -> list[dict[str, Any]]:
        if next(reads, 3) == 2:  # the third read: nova-compute reported once
            nova.services[0]["updated_at"] = "2025-01-15T10:31:10.000000"
        return original(host)

    nova.compute_services = heartbeat  # type: ignore[method-assign]
    result = FenceAction("i", "c1", failure_time=FAILED).run(CTX)
    assert result["outcome"] == "not_fenced" and "continuously down" in result["reason"]


def test_a_bad_policy_value_is_a_warning_not_an_abort(use: Callable[..., FakeNova]) -> None:
    use(state="down", policy_text="hosts:\n  - match: '*'\n    require_down_for: soon\n")
    result = FenceAction("i", "c1", fencing_evidence=pacemaker(), failure_time=FAILED).run(CTX)
    assert result["fenced"]
    result = FenceAction("i", "c1", failure_time=FAILED).run(CTX)
    assert any("require_down_for=soon" in w for w in result["policy_warnings"])


def test_a_rerun_after_the_host_came_back_does_not_reuse_old_evidence(
        use: Callable[..., FakeNova]) -> None:
    use(state="up")
    result = FenceAction("i", "c1", fencing_evidence=pacemaker(), failure_time=FAILED,
                         attempt=2).run(CTX)
    assert result["outcome"] == "refused" and "up again" in result["reason"]
