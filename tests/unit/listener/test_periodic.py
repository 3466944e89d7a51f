"""The listener's periodic thread: a failing round never ends it, stop() ends it."""

from __future__ import annotations

import threading

from listener.periodic import Periodic
from notifications.contract import MistralUnavailable
from tests.waiting import wait_for


def test_failing_rounds_are_retried_and_stop_ends_the_thread() -> None:
    calls: list[int] = []
    third = threading.Event()

    def job() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise MistralUnavailable("Mistral away")
        if len(calls) == 2:
            raise KeyError("a bug")  # logged with its traceback, the thread goes on
        third.set()

    periodic = Periodic("test", job, interval=0.01, run_at_start=True)
    periodic.start()
    wait_for(third.is_set, 10, "a third round after two failed ones")
    periodic.stop()
    assert not periodic._thread.is_alive()


def test_a_job_that_waits_first_does_not_run_before_its_interval() -> None:
    calls: list[int] = []
    periodic = Periodic("test", lambda: calls.append(1), interval=3600)
    periodic.start()
    periodic.stop()
    assert calls == [] and not periodic._thread.is_alive()
