"""Correlates one Nova event with the waiting evacuation of its instance and completes it.

Stateless across controllers: the waits live in Mistral (docs/design.md §3, §5), so any
listener completes any wait, and a second completion is a no-op::

    confirmer = Confirmer(MistralWaits(...), metrics=metrics, pending_window=30.0)
    outcome = confirmer.confirm(event, sent_at=epoch_of_the_notification)
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

import tenacity
from oslo_log import log as logging

from listener.metrics import Metrics
from listener.nova.waits import Completion, MistralWaits, Wait
from notifications import contract
from notifications.contract import MistralUnavailable, WaitOutput
from notifications.nova import InstanceEvent

__all__ = ["Confirmer", "Outcome", "ShuttingDown"]

LOG = logging.getLogger(__name__)

# an event older than its wait's evacuation (minus clock skew) belongs to an earlier attempt
STALE_SKEW = 1.0


class Outcome(enum.Enum):
    COMPLETED = "completed"
    DUPLICATE = "duplicate"  # the wait was already completed (by us or another listener)
    NOT_READY = "not_ready"  # the event does not end the evacuation (e.g. still on the source)
    STALE = "stale"  # from an earlier attempt than the running wait
    UNRELATED = "unrelated"  # no recovery of this instance is running
    GAVE_UP = "gave_up"  # a recovery runs but its wait never appeared in the window


class _Pending(Exception):
    """The instance is being recovered but its wait does not exist yet."""


class ShuttingDown(RuntimeError):
    """The listener stops while an event is retried: requeue it for another listener."""


class Confirmer:
    """Finds the RUNNING wait of an event's instance and completes it with the outcome."""

    def __init__(self, waits: MistralWaits, metrics: Metrics | None = None,
                 pending_window: float = 30.0, mistral_retry_window: float = 60.0,
                 sleep: Callable[[float], None] | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.waits = waits
        # set by stop(): retries end at once instead of holding the shutdown for a window
        self.stopping = threading.Event()
        self.metrics = metrics
        self.pending_window = pending_window
        self.mistral_retry_window = mistral_retry_window
        self._sleep: Callable[[float], None] = sleep or self._interruptible_sleep
        self._now = now

    def _interruptible_sleep(self, seconds: float) -> None:
        self.stopping.wait(seconds)

    def stop(self) -> None:
        """Make in-flight retries give up (their events are requeued)."""
        self.stopping.set()

    def confirm(self, event: InstanceEvent, sent_at: float | None = None) -> Outcome:
        """Complete the event's wait; retry (bounded) while its wait does not exist yet.

        One retry loop for both waits: a missing wait is retried for ``pending_window``, a
        Mistral outage for ``mistral_retry_window`` (both from the event's first attempt).
        Raises MistralUnavailable once Mistral stayed unreachable (the endpoint then requeues
        the message).
        """
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type((_Pending, MistralUnavailable)),
            wait=self._backoff,
            stop=tenacity.stop_any(tenacity.stop_when_event_set(self.stopping),
                                   _WindowOver(self)),
            sleep=self._sleep, before_sleep=_log_outage, reraise=True)
        try:
            outcome: Outcome = retrying(self._attempt, event, sent_at)
        except _Pending:
            if self.stopping.is_set():
                raise ShuttingDown(event.instance_id) from None
            LOG.warning("Nova %s for instance %s: a recovery runs but no wait appeared in "
                        "%.0f s; dropped (the polling fallback covers it)",
                        event.event_type, event.instance_id,
                        self.pending_window)
            return Outcome.GAVE_UP
        return outcome

    def _backoff(self, state: tenacity.RetryCallState) -> float:
        pending = state.outcome is not None and isinstance(state.outcome.exception(), _Pending)
        return (_PENDING_BACKOFF if pending else _OUTAGE_BACKOFF)(state)

    def _attempt(self, event: InstanceEvent, sent_at: float | None) -> Outcome:
        waits = self._waits_of(event.instance_id)
        if waits:
            return self._complete_all(event, waits, sent_at)
        recoveries = self.waits.recovering(event.instance_id)
        if not recoveries:
            return Outcome.UNRELATED
        if any(self.waits.finished_wait(r, event.instance_id) for r in recoveries):
            # an earlier attempt's wait ended; this event may be the next attempt's, whose
            # wait can be newer than the cached list: never drop it on a stale read
            waits = self._waits_of(event.instance_id, fresh=True)
            if waits:
                return self._complete_all(event, waits, sent_at)
            return Outcome.DUPLICATE  # a redelivered or duplicated event after completion
        raise _Pending()

    def _waits_of(self, instance_id: str, fresh: bool = False) -> list[Wait]:
        return [w for w in self.waits.running_waits(fresh) if w.instance_id == instance_id]

    def _complete_all(self, event: InstanceEvent, waits: list[Wait],
                      sent_at: float | None) -> Outcome:
        outcomes = [self._complete(event, wait, sent_at) for wait in waits]
        return min(outcomes, key=_PRIORITY.index)

    def _complete(self, event: InstanceEvent, wait: Wait, sent_at: float | None) -> Outcome:
        accepted = wait.accepted_at
        if sent_at is not None and accepted is not None and sent_at < accepted - STALE_SKEW:
            LOG.info("Incident %s host %s: ignoring %s for instance %s sent before its "
                     "evacuation (wait %s)", wait.incident_id, wait.source_host,
                     event.event_type, event.instance_id, wait.id)
            return Outcome.STALE
        output = self._output(event, wait)
        if output is None:
            return Outcome.NOT_READY
        result = self.waits.complete(wait.id, dict(output))
        LOG.info("Incident %s host %s: wait %s of instance %s %s by %s (result %s, "
                 "destination %s)", wait.incident_id, wait.source_host, wait.id,
                 event.instance_id, result.value, event.event_type, output["result"],
                 output["host"])
        if result is not Completion.COMPLETED:
            return Outcome.DUPLICATE
        self._observe(output, wait, sent_at)
        return Outcome.COMPLETED

    def _output(self, event: InstanceEvent, wait: Wait) -> WaitOutput | None:
        """The wait's result, or None if the event does not end this evacuation.

        The workflow's own check (host_recovery_actions/status.py) applies the same rule,
        contract.is_evacuated.
        """
        host = event.dest_host
        state = (event.state or "").lower() or None
        if event.kind == "error":
            return WaitOutput(result="error", host=host, vm_state=state, fault=event.fault,
                              via="notification")
        if not contract.is_evacuated(host, wait.source_host, state):
            return None
        return WaitOutput(result="evacuated", host=host, vm_state=state, fault=None,
                          via="notification")

    def _observe(self, output: WaitOutput, wait: Wait, sent_at: float | None) -> None:
        if self.metrics is None:
            return
        now = self._now()
        self.metrics.vm_outcome(output["result"] == "evacuated")
        if sent_at is not None:
            self.metrics.confirmation_latency.observe(max(0.0, now - sent_at))
        if wait.accepted_at is not None:
            self.metrics.time_to_recover.observe(max(0.0, now - wait.accepted_at))


class _WindowOver(tenacity.stop.stop_base):
    """Stop once the window of the last failure's kind (pending or outage) has passed."""

    def __init__(self, confirmer: Confirmer) -> None:
        self._confirmer = confirmer

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        pending = state.outcome is not None and isinstance(state.outcome.exception(), _Pending)
        window = (self._confirmer.pending_window if pending
                  else self._confirmer.mistral_retry_window)
        return (state.seconds_since_start or 0.0) >= window


def _log_outage(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, MistralUnavailable):
        LOG.warning("Mistral unavailable (%s); retrying", exc)


# a wait appears within a second or two, and every tenth of a second it is late is added to
# the VM's recovery (the waits' list is cached for 0.5 s and shared by the handler threads,
# so a short step costs Mistral at most two list calls a second); an outage may last minutes
_PENDING_BACKOFF = tenacity.wait_fixed(0.1)
_OUTAGE_BACKOFF = tenacity.wait_exponential(multiplier=0.5, max=30.0)
# when several waits match one event (rare), report the most meaningful outcome
_PRIORITY = [Outcome.COMPLETED, Outcome.DUPLICATE, Outcome.NOT_READY, Outcome.STALE,
             Outcome.UNRELATED, Outcome.GAVE_UP]
