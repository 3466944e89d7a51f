"""The re-check before every evacuate, the host that comes back, and exact ownership."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from host_recovery_actions import source_check
from host_recovery_actions.instance import (
    EvacuateAction,
    FinishInstanceAction,
    PrepareInstanceAction,
)
from host_recovery_actions.ownership import lock_reason
from host_recovery_actions.plan import PlanAction
from host_recovery_actions.report import ReportAction
from tests.unit.workflow.fakes import FakeNova, server

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="wf-1", task_execution_id="t-1", action_execution_id="a-1"))


def base(nova: FakeNova, proven: bool, forced: bool = False) -> dict[str, Any]:
    """The baseline the plan step would record after the fence step."""
    service = nova.force_down(nova.services[0]) if forced else dict(nova.services[0])
    fence = {"service": service, "forced_down": forced, "proven_dead": proven}
    found: dict[str, Any] = source_check.baseline("c1", "i", fence, proven)
    return found


def test_judge_compares_state_and_nova_timestamps_only() -> None:
    b = {"host": "c1", "updated_at": "2024-01-01T10:00:05.000000"}
    down = {"state": "down", "updated_at": "2024-01-01T10:00:05Z"}
    assert source_check.judge(down, b) is None
    assert "up again" in str(source_check.judge(dict(down, state="up"), b))
    later = dict(down, updated_at="2024-01-01T10:00:06")
    assert "reports again" in str(source_check.judge(later, b))
    assert "no nova-compute" in str(source_check.judge(None, b))


def test_one_read_per_host_per_second_shared_by_concurrent_vms() -> None:
    nova, now = FakeNova([]), [0.0]
    reads: list[str] = []
    original = nova.compute_services

    def counted(host: str | None = None) -> list[dict[str, Any]]:
        reads.append(str(host))
        return original(host)

    nova.compute_services = counted  # type: ignore[method-assign]
    cache = source_check.ServiceCache(ttl=1.0, clock=lambda: now[0])
    threads = [threading.Thread(target=source_check.check, args=(nova, None, "c1", cache))
               for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reads == ["c1"]
    now[0] = 1.01
    source_check.check(nova, None, "c1", cache)
    assert reads == ["c1", "c1"]


def test_a_host_never_proven_dead_that_returns_stops_prepare_and_evacuate(use: Any) -> None:
    nova = FakeNova([server("a"), server("b")])
    use(nova)
    b = base(nova, proven=False)
    assert EvacuateAction("i", {"id": "a"}, "c1", source=b).run(CTX)["status"] == "accepted"
    nova.heartbeat("c1", up=False)  # reports again, still shown down: updated_at tells
    source_check.CACHE = source_check.ServiceCache()
    prepared = PrepareInstanceAction("i", {"id": "b"}, "c1", source=b).run(CTX)
    assert prepared["locked_by_us"] is False and "reports again" in prepared["source_returned"]
    out = EvacuateAction("i", {"id": "b"}, "c1", source=b).run(CTX)
    assert out["status"] == "host_returned" and nova.count("evacuate") == 1
    assert nova.count("lock") == 0


def test_a_fenced_host_that_reboots_keeps_being_recovered(use: Any) -> None:
    nova = FakeNova([server("a")])
    use(nova)
    b = base(nova, proven=True, forced=True)
    nova.heartbeat("c1")  # rebooted; our force-down keeps it down
    out = EvacuateAction("i", {"id": "a"}, "c1", source=b).run(CTX)
    assert out["status"] == "accepted" and out["source_returned"] is True
    assert nova.services[0]["forced_down"] is True


def test_the_plan_records_the_baseline_of_the_fence_write(use: Any) -> None:
    nova = FakeNova([server("a", locked=True, locked_reason="user")])
    use(nova)
    written = nova.force_down(nova.services[0])
    plan = PlanAction("i", "c1", fence={"service": written, "forced_down": True,
                                        "proven_dead": True}).run(CTX)
    source = plan["settings"]["source"]
    assert source["updated_at"] == written["updated_at"] and source["proven_dead"]
    assert source["baseline_from"] == "fence"
    assert plan["instances"][0]["locked_before"] is True


def test_report_ends_host_returned_listing_moved_and_not_moved(use: Any) -> None:
    nova = FakeNova([])
    use(nova)
    plan: dict[str, Any] = {"instances": [{"id": "a"}, {"id": "b"}],
                            "settings": {"source": base(nova, False)}}
    nova.heartbeat("c1")
    results = [{"record": {"id": "a", "result": "evacuated"}},
               {"record": {"id": "b", "result": "not_moved", "reason": "back"}}]
    out = ReportAction("i", "c1", "recovered", plan=plan, results=results).run(CTX)
    assert out["outcome"] == "host_returned" and out["failed"] is False
    assert out["source_host"]["moved"] == ["a"] and out["source_host"]["not_moved"] == ["b"]
    fenced = dict(plan, settings={"source": dict(plan["settings"]["source"],
                                                 proven_dead=True)})
    done = ReportAction("i", "c1", "recovered", plan=fenced, results=results[:1]).run(CTX)
    assert done["outcome"] == "failed"  # b has no record; the host return is recorded
    assert done["source_host"]["returned"] is True and "continued" in done["reason"]


def test_a_user_rebuild_is_not_claimed_and_waited_for(use: Any) -> None:
    nova = FakeNova([server("a", task_state="rebuilding")], instant=False)
    use(nova, conf="[recovery]\npoll_interval = 0.01\npoll_limit = 1\n")
    reads = [0]
    original = nova.server

    def user_rebuild_ends(sid: str) -> dict[str, Any]:
        reads[0] += 1
        if reads[0] == 3:
            nova.servers[sid]["OS-EXT-STS:task_state"] = None
        return original(sid)

    nova.server = user_rebuild_ends  # type: ignore[method-assign]
    b = base(nova, proven=True, forced=True)
    assert EvacuateAction("i", {"id": "a"}, "c1", source=b).run(CTX)["status"] == "accepted"
    assert nova.count("evacuate") == 1


def test_a_rebuild_that_never_ends_is_busy_in_nova(use: Any) -> None:
    nova = FakeNova([server("a", task_state="rebuilding")])
    use(nova, conf="[recovery]\npoll_interval = 0.01\npoll_limit = 1\n")
    out = EvacuateAction("i", {"id": "a"}, "c1", source=base(nova, True, True)).run(CTX)
    assert out["status"] == "refused" and out["reason"].startswith("busy in Nova")
    assert nova.count("evacuate") == 0


def test_our_own_evacuation_is_in_progress_not_busy(use: Any) -> None:
    nova = FakeNova([server("a")], instant=False)
    use(nova)
    b = base(nova, proven=True, forced=True)
    action = EvacuateAction("i", {"id": "a"}, "c1", source=b)
    assert action.run(CTX)["status"] == "accepted"
    assert action.run(CTX)["status"] == "in_progress"


def test_only_our_own_lock_is_ours(use: Any) -> None:
    other = lock_reason("another-incident")
    nova = FakeNova([server("a", locked=True, locked_reason=other),
                     server("b", locked=True, locked_reason=lock_reason("i"))])
    use(nova)
    assert PrepareInstanceAction("i", {"id": "a"}, "c1").run(CTX)["locked_by_us"] is False
    assert PrepareInstanceAction("i", {"id": "b"}, "c1").run(CTX)["locked_by_us"] is True
    nova.servers["b"]["locked_reason"] = "user"  # re-locked by a user meanwhile
    FinishInstanceAction("i", {"id": "b"}, "c1", result="evacuated",
                         locked_by_us=True).run(CTX)
    assert nova.count("unlock") == 0


def test_below_2_73_the_plan_records_whose_lock_it_is(use: Any) -> None:
    nova = FakeNova([server("a", locked=True), server("b", locked=True)], version="2.53")
    use(nova)
    theirs = PrepareInstanceAction("i", {"id": "a", "locked_before": True}, "c1").run(CTX)
    ours = PrepareInstanceAction("i", {"id": "b", "locked_before": False}, "c1").run(CTX)
    assert (theirs["locked_by_us"], ours["locked_by_us"]) == (False, True)
