"""The mass-failure guard: the same rank on every controller, from Mistral's executions."""

from __future__ import annotations

from typing import Any

from host_recovery_actions import guard


def ex(eid: str, host: str, created: str, attempt: int = 1) -> dict[str, Any]:
    return {"id": eid, "created_at": f"2024-01-01 10:{created}",
            "input": {"search_opts": {"host": host}, "attempt": attempt}}


EXECUTIONS = [ex("e1", "h1", "00:00"), ex("e2", "h2", "00:05"), ex("e0", "h3", "00:05"),
              ex("e4", "h4", "01:00"),
              dict(ex("old", "h9", "00:00"), created_at="2024-01-01 09:00:00")]


def decide(me: dict[str, Any], allowed: int = 2, window: int = 600,
           enabled: Any = lambda h: True) -> tuple[str, str, int]:
    return guard.rank_decision(me, EXECUTIONS, enabled, window, allowed)


def test_rank_orders_by_created_at_then_id() -> None:
    assert decide(EXECUTIONS[0])[0:3:2] == ("proceed", 1)
    assert decide(EXECUTIONS[2])[0:3:2] == ("proceed", 2)  # e0 < e2 at the same second
    decision, reason, rank = decide(EXECUTIONS[1])
    assert (decision, rank) == ("hold", 3) and "mass failure" in reason


def test_a_later_execution_does_not_change_an_earlier_decision() -> None:
    assert decide(EXECUTIONS[0], allowed=1)[0] == "proceed"
    assert decide(EXECUTIONS[3], allowed=1)[0] == "hold"


def test_hosts_skipped_by_policy_reruns_and_old_executions_do_not_count() -> None:
    assert decide(EXECUTIONS[1], enabled=lambda h: h != "h1")[0] == "proceed"
    assert decide(EXECUTIONS[1], window=4)[0] == "proceed"  # only e0, e2 in 4 s
    rerun = [ex("r", "h5", "00:01", attempt=2)]
    assert guard.rank_decision(EXECUTIONS[1], EXECUTIONS + rerun, lambda h: True, 600,
                               2)[0] == "hold"


def test_one_host_counts_once() -> None:
    again = ex("e9", "h1", "00:30")
    assert guard.rank_decision(again, [*EXECUTIONS, again], lambda h: True, 600, 1)[0] == \
        "proceed"


def test_limit_is_the_smaller_of_count_and_fraction_at_least_one() -> None:
    assert guard.limit(5, 0.25, 8) == 2
    assert guard.limit(1, 0.5, 100) == 1
    assert guard.limit(5, 0.1, 3) == 1
    assert guard.limit(0, 1.0, 10) == 0


def on(eid: str, created: str, incident: str, state: str = "RUNNING",
       ended: str | None = None) -> dict[str, Any]:
    """An execution for host h1 (``ended``: its updated_at once finished)."""
    execution = ex(eid, "h1", created)
    execution["input"]["incident_id"] = incident
    execution.update(state=state, updated_at=f"2024-01-01 10:{ended}" if ended else None)
    return execution


def test_a_second_incident_for_a_host_joins_the_running_one() -> None:
    first, second = on("a", "00:00", "inc-1"), on("b", "00:01", "inc-2")
    assert guard.joined_to(first, [first, second]) is None
    assert guard.joined_to(second, [first, second]) == first
    # the same incident (an operator's re-run) never joins itself
    assert guard.joined_to(on("r", "00:02", "inc-1"), [first]) is None


def test_a_new_incident_needs_the_previous_one_ended() -> None:
    ended = on("a", "00:00", "inc-1", state="SUCCESS", ended="00:10")
    assert guard.joined_to(on("b", "00:11", "inc-2"), [ended]) is None
    # created while it ran: joins, even if the gate runs after it ended (creation order)
    assert guard.joined_to(on("c", "00:05", "inc-3"), [ended]) == ended


def test_only_leaders_are_joined() -> None:
    """b joined a; a ended; c (created after a ended) must not join b, which recovers
    nothing: c leads."""
    a = on("a", "00:00", "inc-1", state="SUCCESS", ended="00:10")
    b = on("b", "00:05", "inc-2")  # still RUNNING: its gate is about to end it as joined
    c = on("c", "00:11", "inc-3")
    assert guard.joined_to(b, [a, b, c]) == a
    assert guard.joined_to(c, [a, b, c]) is None
