"""The per-VM steps merged into fewer tasks (issue 13): prepare + evacuate in one action,
restore + finish in one, each with no more Nova requests than it needs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import yaml

from host_recovery_actions.instance import EvacuateAction, FinishInstanceAction
from host_recovery_actions.nova import NovaError, NovaFacade
from notifications import contract
from tests.unit.workflow.fakes import FakeNova, server
from workflows import INSTANCE_WORKFLOW_NAME, definition

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="wf-1", task_execution_id="t-1", action_execution_id="a-1"))
FAST = "[recovery]\npoll_interval = 0.05\npoll_limit = 2\n"


class CountingNova(FakeNova):
    """Counts server reads too."""

    def server(self, sid: str) -> dict[str, Any]:
        self.calls.append(("read", sid))
        return super().server(sid)


def test_first_attempt_prepares_then_evacuates_on_one_read(use: Any) -> None:
    nova = CountingNova([server("a")], instant=False)
    use(nova)
    out = EvacuateAction("inc-1", {"id": "a"}, "c1", prepare=True).run(CTX)
    assert out["status"] == "accepted" and out["prepared"]["locked_by_us"] is True
    assert [c for c, _ in nova.calls] == ["read", "lock", "evacuate"]
    # a later attempt (after a backoff) does not prepare again
    again = EvacuateAction("inc-1", {"id": "a"}, "c1", prepare=True,
                           prepared=out["prepared"]).run(CTX)
    assert again["status"] == "in_progress" and "prepared" not in again
    assert nova.count("lock") == 1 and nova.count("evacuate") == 1


def test_a_returned_source_is_not_prepared_nor_evacuated(use: Any) -> None:
    nova = CountingNova([server("a")])
    nova.heartbeat("c1")  # up again, never proven dead (no baseline): stop
    use(nova)
    out = EvacuateAction("inc-1", {"id": "a"}, "c1", prepare=True).run(CTX)
    assert out["status"] == "host_returned" and out["prepared"]["locked_by_us"] is False
    assert nova.calls == []


def test_restore_starts_from_the_known_state_and_reads_once(use: Any) -> None:
    nova = CountingNova([server("a", locked=True, locked_reason="host-recovery incident i")])
    notes = use(nova, conf=FAST)
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    nova.calls.clear()
    record = FinishInstanceAction(
        "i", {"id": "a", "original_state": "active"}, "c1", attempts=1, locked_by_us=True,
        outcome={"result": "evacuated", "host": "c2", "vm_state": "stopped"},
        restore_state="active").run(CTX)
    assert record["result"] == "evacuated" and record["final_state"] == "active"
    assert [c for c, _ in nova.calls] == ["start", "read", "unlock"]
    assert notes[0][0] == "host_recovery.instance.evacuated"


def test_restore_with_a_stale_known_state_reads_and_decides(use: Any) -> None:
    nova = CountingNova([server("a", vm_state="stopped")])
    use(nova, conf=FAST)
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    nova.start("a")  # someone started it since the notification: the start is refused

    def refuse(sid: str) -> None:
        raise NovaError(409, "already active")

    nova.start = refuse  # type: ignore[method-assign]
    record = FinishInstanceAction(
        "i", {"id": "a"}, "c1", outcome={"vm_state": "stopped", "host": "c2"},
        restore_state="active").run(CTX)
    assert record["result"] == "evacuated" and record["final_state"] == "active"


def test_restore_that_cannot_end_in_the_state_is_a_failed_record(use: Any) -> None:
    nova = CountingNova([server("a")])
    use(nova, conf=FAST)
    EvacuateAction("i", {"id": "a"}, "c1").run(CTX)
    nova.servers["a"]["OS-EXT-STS:vm_state"] = "paused"
    record = FinishInstanceAction("i", {"id": "a"}, "c1", outcome={"vm_state": "paused"},
                                  restore_state="active").run(CTX)
    assert record["result"] == "failed"
    assert "evacuated but not back in state active" in record["reason"]


def test_glance_is_read_once_per_image_not_per_vm() -> None:
    class Session:
        gets: list[str] = []

        def get(self, url: str, **kwargs: Any) -> Any:
            self.gets.append(url)
            return SimpleNamespace(status_code=200, json=lambda: {"id": "img", "hw_ha": "x"})

    sess = Session()
    nova = NovaFacade(None, sess, "2.95", image_endpoint="http://glance")
    props = [nova.image_properties({"image": {"id": "img"}}) for _ in range(5)]
    assert props == [{"hw_ha": "x"}] * 5 and len(sess.gets) == 1


def test_the_backoff_task_is_the_evacuate_task_after_a_wait() -> None:
    tasks = yaml.safe_load(definition())[INSTANCE_WORKFLOW_NAME]["tasks"]
    again = dict(tasks["backoff"])
    assert again.pop("wait-before") and "wait-before" not in tasks["evacuate"]
    assert again == tasks["evacuate"]
    # merged into one task per VM (issue 13): prepare and evacuate, then the wait
    assert "prepare" not in tasks and "wait" not in tasks
    assert tasks["evacuate"]["action"] == contract.WAIT_EVACUATION
