"""The wait that evacuates (issue 13): one Mistral task per VM registers the wait, then asks
Nova; it ends itself only when there is nothing to wait for, and the polling fallback tells an
evacuation that never started from one Nova still runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from host_recovery_actions.base import seconds_since
from host_recovery_actions.wait import PollEvacuationAction, WaitEvacuationAction
from tests.unit.workflow.fakes import FakeMistral, FakeNova, server

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="wf-1", task_execution_id="t-1", action_execution_id="a-1"))
FAST = "[recovery]\npoll_interval = 0.05\npoll_limit = 1\n"


def _wait(vm: str = "a", **kwargs: Any) -> WaitEvacuationAction:
    return WaitEvacuationAction(vm, "inc-1", "c1", instance={"id": vm, **kwargs})


def test_an_accepted_evacuation_leaves_the_wait_running_for_the_listener(use: Any) -> None:
    nova = FakeNova([server("a")], instant=False)
    use(nova)
    action = _wait()
    assert action.is_sync() is False  # how Mistral creates it: no heartbeat, no result sent
    assert action.run(CTX) is None
    assert action.is_sync() is False  # still: the listener's PUT ends it
    assert [c for c, _ in nova.calls] == ["lock", "evacuate"]


def test_nothing_to_wait_for_ends_the_wait_synchronously(use: Any) -> None:
    nova = FakeNova([server("a", vm_state="building")])
    use(nova)
    refused = _wait()
    out = refused.run(CTX)
    assert refused.is_sync() is True  # the executor sends this output to the engine
    assert out["result"] == "refused" and "vm_state building" in out["fault"]
    assert out["prepared"]["locked_by_us"] is True and nova.count("evacuate") == 0

    back = FakeNova([server("b")])
    back.heartbeat("c1")  # up again, never proven dead: not even locked
    use(back)
    returned = _wait("b")
    out = returned.run(CTX)
    assert returned.is_sync() and out["result"] == "host_returned" and back.calls == []


def test_a_rerun_after_the_evacuation_ended_reports_it_without_a_second_one(use: Any) -> None:
    nova = FakeNova([server("a")])
    use(nova)
    assert _wait().run(CTX) is None  # evacuated (this fake finishes at once)
    again = _wait()
    out = again.run(CTX)
    assert again.is_sync() and out["result"] == "evacuated" and out["host"] == "c2"
    assert out["via"] == "check" and nova.count("evacuate") == 1


def test_without_an_instance_it_only_checks_nova(use: Any) -> None:
    nova = FakeNova([server("a", host="c2", vm_state="stopped")])
    mistral = FakeMistral()
    use(nova, mistral)
    action = WaitEvacuationAction("a", "inc-1", "c1")
    assert action.run(CTX) is None and not action.is_sync()
    assert nova.calls == []  # no lock, no evacuate: only the read
    assert [(aid, state) for aid, state, _ in mistral.completed] == [("a-1", "SUCCESS")]


def test_the_poll_tells_a_lost_start_at_once_and_waits_for_a_running_one(use: Any) -> None:
    nova = FakeNova([server("a"), server("b")], instant=False)
    use(nova, FakeMistral(), conf=FAST)
    lost = PollEvacuationAction("a", "inc-1", "c1").run(CTX)
    assert lost["result"] == "not_started" and nova.count("evacuate") == 0
    _wait("b").run(CTX)  # Nova accepted: rebuilding, never ends in this fake
    running = PollEvacuationAction("b", "inc-1", "c1").run(CTX)
    assert running["result"] == "timeout"
    nova.finish("b", error="NoValidHost")
    failed = PollEvacuationAction("b", "inc-1", "c1").run(CTX)
    assert failed["result"] == "error" and failed["fault"] == "NoValidHost"


def test_seconds_since_reads_mistral_times() -> None:
    assert seconds_since(None) is None and seconds_since("yesterday") is None
    elapsed = seconds_since("2020-01-01 00:00:00")
    assert elapsed is not None and elapsed > 86400 * 365
