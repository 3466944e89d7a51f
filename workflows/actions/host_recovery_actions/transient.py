"""Bounded retries of one idempotent read on a transient failure (5xx, no connection).

A plan reads Nova and Placement tens of times. When a read that failed once failed the
whole action, a fifth of Nova's answers as 5xx (soak suite R4) failed all six tries of a
plan within 20 s, and the host's VMs were never evacuated. A read is retried on its own,
briefly; a write is not (an evacuate answered 500 may have been accepted): its retries
stay with the task's retry policy, whose action looks at Nova again first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

__all__ = ["READ_ATTEMPTS", "read"]

T = TypeVar("T")
READ_ATTEMPTS = 4  # 0.25 + 0.5 + 1 s of backoff (plus jitter): a blip, not an outage
SLEEP: Callable[[float], None] = time.sleep  # looked up at each read: tests record it


def read(fn: Callable[[], T], transient: type[Exception], attempts: int = READ_ATTEMPTS) -> T:
    """``fn()``, tried up to ``attempts`` times while it raises ``transient``; then re-raised."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(transient),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential_jitter(initial=0.25, max=2.0, jitter=0.25),
        sleep=SLEEP,
        reraise=True,
    )
    return retrying(fn)
