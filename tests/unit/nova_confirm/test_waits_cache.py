"""MistralWaits' per-process cache: one list call serves many events; a completion drops
its own wait from the list instead of forcing the next event to list again (issue 13)."""

import pytest

from listener.nova.waits import Completion, MistralWaits
from notifications.contract import ActionAlreadyCompleted, MistralUnavailable


def _row(wait_id, vm):
    return {"id": wait_id, "name": "host_recovery.wait_evacuation", "state": "RUNNING",
            "input": {"instance_id": vm, "incident_id": "inc", "source_host": "src",
                      "attempt": 1}, "created_at": "2026-12-08 03:00:00"}


class _Api:
    def __init__(self, rows):
        self.rows = rows
        self.lists = 0
        self.completed = []
        self.down = False

    def list_action_executions(self, name, state="RUNNING", fields=None, **filters):
        self.lists += 1
        return [dict(r) for r in self.rows]

    def complete_action(self, action_execution_id, output, state="SUCCESS"):
        if self.down:
            raise MistralUnavailable("connection refused")
        if action_execution_id in self.completed:
            raise ActionAlreadyCompleted(action_execution_id)
        self.completed.append(action_execution_id)
        self.rows = [r for r in self.rows if r["id"] != action_execution_id]
        return {}


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_completion_drops_its_wait_without_a_new_list_call():
    api, clock = _Api([_row("w1", "vm-1"), _row("w2", "vm-2")]), _Clock()
    store = MistralWaits(api, cache_ttl=0.5, clock=clock)
    assert [w.id for w in store.running_waits()] == ["w1", "w2"]
    assert store.complete("w1", {"result": "evacuated"}) is Completion.COMPLETED
    assert [w.id for w in store.running_waits()] == ["w2"]
    assert api.lists == 1


def test_a_second_completion_drops_the_wait_too_and_the_list_expires():
    api, clock = _Api([_row("w1", "vm-1")]), _Clock()
    store = MistralWaits(api, cache_ttl=0.5, clock=clock)
    store.running_waits()
    api.complete_action("w1", {})  # another listener won
    assert store.complete("w1", {"result": "evacuated"}) is Completion.DUPLICATE
    assert store.running_waits() == []
    api.rows.append(_row("w3", "vm-3"))
    clock.now += 0.6
    assert [w.id for w in store.running_waits()] == ["w3"]
    assert [w.id for w in store.running_waits(fresh=True)] == ["w3"]
    assert api.lists == 3


def test_a_completion_that_failed_keeps_its_wait_for_the_retry():
    api, clock = _Api([_row("w1", "vm-1")]), _Clock()
    store = MistralWaits(api, cache_ttl=0.5, clock=clock)
    store.running_waits()
    api.down = True
    with pytest.raises(MistralUnavailable):
        store.complete("w1", {"result": "evacuated"})
    assert [w.id for w in store.running_waits()] == ["w1"]
    api.down = False
    assert store.complete("w1", {"result": "evacuated"}) is Completion.COMPLETED
    assert api.lists == 1
