"""Run callables later, off the request threads: one timer thread feeding a small pool."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

LOG = logging.getLogger(__name__)


class DelayedExecutor:
    """``call_later(delay, fn)`` runs ``fn`` on a worker after ``delay`` seconds.

    One heap and one timer thread instead of a ``threading.Timer`` per VM: a thousand
    concurrent evacuations must not mean a thousand threads.
    """

    def __init__(self, workers: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sim-worker")
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="sim-timer", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        """Schedule ``fn``; exceptions are logged, never lost silently."""
        with self._cond:
            self._pending += 1
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._counter), fn))
            self._cond.notify()

    @property
    def pending(self) -> int:
        """Callables scheduled or running."""
        with self._cond:
            return self._pending

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                due, _, fn = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                self._pool.submit(self._call, fn)

    def _call(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            LOG.exception("simulated background task failed")
        finally:
            with self._cond:
                self._pending -= 1

    def stop(self) -> None:
        """Drop what has not started; let running callables finish."""
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
