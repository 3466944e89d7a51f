"""Rate-limit oslo.messaging's rabbit driver errors: the first traceback, then a count a minute.

A flood of bodies the driver cannot decode makes ``impl_rabbit`` log one traceback each
(thousands of ERROR lines); the broker's dead-letter exchange keeps the bodies, so one
traceback tells the story and a count per minute tells the rate::

    install()      # at the listener's start
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["DRIVER_LOGGER", "RepeatFilter", "install"]

#: oslo.log renames ``oslo_messaging...`` loggers ``oslo.messaging...`` (log.getLogger).
DRIVER_LOGGER = "oslo.messaging._drivers.impl_rabbit"


class RepeatFilter(logging.Filter):
    """Lets the first ERROR through, then one summary line per ``period`` seconds.

    Records below ERROR pass untouched. A suppressed record only counts; the first ERROR
    after a period ended passes without its traceback, its message prefixed with the count.
    """

    def __init__(self, period: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.period = period
        self.clock = clock
        self._window_start: float | None = None
        self._suppressed = 0
        self._lock = threading.Lock()  # the driver logs from several threads

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        now = self.clock()
        with self._lock:
            if self._window_start is None:  # the first one: keep it whole
                self._window_start = now
                return True
            if now - self._window_start < self.period:
                self._suppressed += 1
                return False
            suppressed, self._suppressed, self._window_start = self._suppressed, 0, now
        latest = record.getMessage().replace("%", "%%")
        record.msg = (f"%s more like this in the last %.0f s (tracebacks omitted); "
                      f"latest: {latest}")
        record.args = (suppressed + 1, self.period)
        record.exc_info = record.exc_text = None
        return True


def install(name: str = DRIVER_LOGGER, period: float = 60.0) -> RepeatFilter:
    """Attach one RepeatFilter to logger ``name`` (again: the one already there)."""
    logger = logging.getLogger(name)
    for existing in logger.filters:
        if isinstance(existing, RepeatFilter):
            return existing
    repeat = RepeatFilter(period)
    logger.addFilter(repeat)
    return repeat
