"""Notifications leave through a queue and one publisher thread, in emission order, so the
API never waits for the broker; drop/delay/duplicate faults are applied here."""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections import deque
from typing import Any

from simulator.faults import Dice
from simulator.messaging import SendFn
from simulator.worker import DelayedExecutor

LOG = logging.getLogger(__name__)
_STOP = object()


class NotificationQueue:
    """``emit()`` is cheap and never blocks; ``send`` runs on the publisher thread."""

    def __init__(self, send: SendFn, dice: Dice, delayer: DelayedExecutor,
                 history: int = 10_000) -> None:
        self._send = send
        self._dice = dice
        self._delayer = delayer
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self.counters = {"emitted": 0, "published": 0, "dropped": 0, "delayed": 0,
                         "duplicated": 0, "failed": 0}
        self.recent: deque[dict[str, Any]] = deque(maxlen=history)
        self._thread = threading.Thread(target=self._run, name="sim-notifier", daemon=True)
        self._thread.start()

    def emit(self, publisher_id: str, event_type: str, priority: str,
             payload: dict[str, Any]) -> None:
        """Queue one notification."""
        data = payload.get("nova_object.data", {})
        record = {"publisher_id": publisher_id, "event_type": event_type,
                  "priority": priority, "instance_uuid": data.get("uuid",
                                                                  data.get("instance_uuid")),
                  "time": time.time()}
        with self._lock:
            self.counters["emitted"] += 1
            self.recent.append(record)
        self._queue.put((publisher_id, event_type, priority, payload))

    def wait_idle(self, timeout: float) -> bool:
        """True once every queued (not delayed) notification has been handed to the broker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def stats(self) -> dict[str, int]:
        """Counters (emitted, published, dropped, delayed, duplicated, failed)."""
        with self._lock:
            return dict(self.counters, queued=self._queue.qsize())

    def _count(self, key: str) -> None:
        with self._lock:
            self.counters[key] += 1

    def _publish(self, item: tuple[str, str, str, dict[str, Any]]) -> None:
        try:
            self._send(*item)
            self._count("published")
        except Exception:
            self._count("failed")
            LOG.exception("could not publish %s", item[1])

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if self._dice.roll("notif_drop"):
                    self._count("dropped")
                    continue
                if self._dice.roll("notif_delay"):
                    self._count("delayed")
                    delay = self._dice.rates.notif_delay_seconds
                    self._delayer.call_later(delay, functools.partial(self._publish, item))
                    continue
                self._publish(item)
                if self._dice.roll("notif_duplicate"):
                    self._count("duplicated")
                    self._publish(item)
            finally:
                self._queue.task_done()

    def stop(self, timeout: float = 10.0) -> None:
        """Publish what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)
