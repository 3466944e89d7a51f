"""One daemon thread that runs a job every interval until stopped: the listener's periodic
tasks (incident metrics, give-back, wait sweep, capacity report) share it.

    job = Periodic("wait-sweep", sweep.round, interval=300.0)
    job.start()        # the service does this
    job.stop()         # on shutdown: the current round ends, no new one starts
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from oslo_log import log as logging

from notifications.contract import MistralError

__all__ = ["Periodic"]

LOG = logging.getLogger(__name__)


class Periodic:
    """Runs ``job`` every ``interval`` seconds on a daemon thread; a failed round is logged
    and the next one retries (Mistral away: one line; anything else: a traceback, since it
    is a bug that must not end the thread silently)."""

    def __init__(self, name: str, job: Callable[[], object], interval: float,
                 run_at_start: bool = False, join_timeout: float = 30.0) -> None:
        self.name = name
        self._job = job
        self._interval = interval
        self._run_at_start = run_at_start
        self._join_timeout = join_timeout
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._join_timeout)

    def _run(self) -> None:
        if not self._run_at_start and self.stopping.wait(self._interval):
            return
        while True:
            try:
                self._job()
            except MistralError as exc:  # Mistral away or an action failed: next round
                LOG.warning("%s round failed: %s", self.name, exc)
            except Exception:
                LOG.exception("%s round failed", self.name)
            if self.stopping.wait(self._interval):
                return
