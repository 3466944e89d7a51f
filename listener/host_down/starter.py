"""From a host-down message to a started recovery: verify, dead-letter or start, idempotently.

The plain class behind the oslo endpoint; its collaborators are injected::

    starter = RecoveryStarter(mistral, dead_letters, parse, workflow=contract.RECOVER_HOST, ...)
    outcome = starter.handle(Message(publisher_id, event_type, "INFO", payload, metadata))

* invalid (malformed, unsigned, forged, stale...) → dead-lettered, then ``HANDLED`` (ack);
* late (older than the replay window: listeners or Mistral were down) → started like any
  other, logged as late and counted;
* valid → ``POST /v2/executions`` with id = incident id (Mistral returns the existing
  execution for a known id, so duplicates are no-ops), then ``HANDLED``;
* transient failures (Mistral or the broker unreachable) are retried here with exponential
  backoff for ``retry_window`` seconds, then ``REQUEUE``: one redelivery per window at most;
* signature and clock failures, and any unexpected exception, are republished with an
  attempt counter (listener/redelivery.py) up to ``verify_attempts``/``internal_attempts``
  deliveries, then dead-lettered (reason ``internal`` for an exception): never a hot loop.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from typing import Any, Protocol

import tenacity
from oslo_log import log as logging

from listener.host_down.dead_letter import DeadLetterError
from listener.metrics import Metrics
from listener.redelivery import Message, describe
from notifications.contract import MistralError, MistralUnavailable
from notifications.host_down import UNJUDGED_REASONS, HostDown, InvalidHostDown

LOG = logging.getLogger(__name__)

__all__ = ["VERIFY_REASONS", "Message", "Outcome", "RecoveryStarter"]


class Outcome(enum.Enum):
    HANDLED = "handled"
    REQUEUE = "requeue"


class Executions(Protocol):
    def start_execution(self, execution_id: str, workflow: str,
                        workflow_input: dict[str, Any]) -> dict[str, Any]: ...


class DeadLetterSink(Protocol):
    def publish(self, reason: str, detail: str, original: dict[str, Any]) -> None: ...


class Retrier(Protocol):
    def republish(self, message: Message) -> bool: ...


#: Reasons a listener without the right key or clock would give: a peer may judge better.
VERIFY_REASONS = UNJUDGED_REASONS


class _Retry(Exception):
    """An attempt failed transiently (wraps the cause, for tenacity)."""


class RecoveryStarter:
    """Turns one host-down message into exactly one Mistral execution (or a dead letter)."""

    def __init__(self, executions: Executions, dead_letters: DeadLetterSink,
                 parse: Callable[[Any], HostDown], *, workflow: str, event_type: str,
                 retry_window: float, retry_initial_delay: float = 0.5,
                 retry_max_delay: float = 30.0, stopping: threading.Event | None = None,
                 metrics: Metrics | None = None, redelivery: Retrier | None = None,
                 verify_attempts: int = 1, internal_attempts: int = 1) -> None:
        self._executions = executions
        self._dead_letters = dead_letters
        self._parse = parse
        self.workflow = workflow
        self.event_type = event_type
        self.retry_window = retry_window
        self.retry_initial_delay = retry_initial_delay
        self.retry_max_delay = retry_max_delay
        self.stopping = stopping or threading.Event()
        self._metrics = metrics
        self._redelivery = redelivery
        self.verify_attempts = verify_attempts if redelivery is not None else 1
        self.internal_attempts = internal_attempts if redelivery is not None else 1

    def handle(self, message: Message) -> Outcome:
        """HANDLED once Mistral accepted the incident, or the message is republished for
        another try or dead-lettered; REQUEUE only after a bounded wait."""
        if self._metrics is not None:
            self._metrics.consumed.labels(source="host_down").inc()
        try:
            return self._handle(message)
        except Exception as exc:  # a bug, an unencodable field, a proxy's non-JSON 200...
            return self._internal(message, exc)

    def _handle(self, message: Message) -> Outcome:
        try:
            if message.event_type != self.event_type:
                raise InvalidHostDown("malformed", f"event_type: {message.event_type!r} is "
                                                   f"not {self.event_type!r}")
            event = self._parse(message.payload)
        except InvalidHostDown as exc:
            if exc.reason in VERIFY_REASONS and message.attempt < self.verify_attempts:
                return self._retry(message, f"{exc.reason}: {exc.detail}", exc.reason)
            return self._dead_letter(message, exc.reason, exc.detail)
        if event.late_by:
            # after an outage the first delivery is already late: act on it, idempotently
            LOG.warning("Late host-down for incident %s host %s (message %s from %s, sent "
                        "%.0f s ago): starting execution %s; the fence step's evidence "
                        "check decides", event.incident_id, event.host, message.message_id,
                        message.publisher_id, event.late_by, event.incident_id)
            if self._metrics is not None:
                self._metrics.late.inc()
        else:
            LOG.info("Host-down for incident %s host %s (message %s from %s): starting "
                     "execution %s", event.incident_id, event.host, message.message_id,
                     message.publisher_id, event.incident_id)
        return self._retrying(self._start, event, what=f"incident {event.incident_id} host "
                              f"{event.host} execution {event.incident_id}")

    # -- steps ------------------------------------------------------------------------------
    def _start(self, event: HostDown) -> Outcome:
        try:
            execution = self._executions.start_execution(
                event.incident_id, self.workflow, event.workflow_input())
        except MistralUnavailable as exc:
            raise _Retry(f"Mistral unavailable: {exc}") from exc
        except MistralError as exc:  # e.g. workflow missing: never drop a host-down
            LOG.error("Mistral refused incident %s host %s execution %s: %s",
                      event.incident_id, event.host, event.incident_id, exc)
            raise _Retry(f"Mistral refused: {exc}") from exc
        got_input = execution.get("input") or {}
        got_incident = got_input.get("incident_id") if isinstance(got_input, dict) else None
        if execution.get("workflow_name") != self.workflow or got_incident != event.incident_id:
            LOG.error("Conflict for incident %s host %s: execution %s exists for workflow %s "
                      "incident %s", event.incident_id, event.host, execution.get("id"),
                      execution.get("workflow_name"), got_incident)
        else:
            LOG.info("Recovery accepted for incident %s host %s: execution %s is %s",
                     event.incident_id, event.host, execution.get("id"),
                     execution.get("state"))
        return Outcome.HANDLED

    def _internal(self, message: Message, exc: Exception) -> Outcome:
        detail = describe(exc)
        # the traceback once (first delivery), then one line per retry: no log flood
        LOG.error("Unexpected error handling host-down message %s (incident %s, delivery "
                  "%s of %s): %s", message.message_id, message.incident_id, message.attempt,
                  self.internal_attempts, detail, exc_info=message.attempt == 1)
        if message.attempt < self.internal_attempts:
            return self._retry(message, detail, "internal")
        try:
            return self._dead_letter(message, "internal", detail)
        except Exception as err:  # the record itself cannot be built: bounded requeue
            LOG.error("Cannot dead-letter message %s (incident %s): %s; requeued after %s s",
                      message.message_id, message.incident_id, describe(err),
                      self.retry_window)
            self._sleep(self.retry_window)
            return Outcome.REQUEUE

    def _retry(self, message: Message, why: str, reason: str) -> Outcome:
        assert self._redelivery is not None  # attempts > 1 only with a Retrier
        if self._metrics is not None:
            self._metrics.redeliveries.labels(reason=reason).inc()
        LOG.warning("Host-down message %s (incident %s) not accepted on delivery %s (%s): "
                    "handing it back for another try", message.message_id,
                    message.incident_id, message.attempt, why)
        if self._redelivery.republish(message):
            return Outcome.HANDLED
        return Outcome.REQUEUE  # not confirmed: after the delay, the broker redelivers

    def _dead_letter(self, message: Message, reason: str, detail: str) -> Outcome:
        LOG.warning("Dead-lettering host-down message %s from %s (incident %s, delivery %s): "
                    "%s: %s", message.message_id, message.publisher_id, message.incident_id,
                    message.attempt, reason, detail)

        def publish() -> Outcome:
            try:
                self._dead_letters.publish(reason, detail, message.original())
            except DeadLetterError as err:
                raise _Retry(f"dead-letter publish failed: {err}") from err
            if self._metrics is not None:
                self._metrics.rejected.labels(source="host_down", reason=reason).inc()
                self._metrics.dead_lettered.labels(reason=reason).inc()
            return Outcome.HANDLED

        return self._retrying(publish, what=f"dead letter of message {message.message_id}")

    # -- retry policy -----------------------------------------------------------------------
    def _retrying(self, attempt: Callable[..., Outcome], *args: Any, what: str) -> Outcome:
        def log_retry(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            LOG.warning("Transient failure for %s (attempt %s): %s; retrying in %.1f s",
                        what, state.attempt_number, exc,
                        state.next_action.sleep if state.next_action else 0.0)

        retrying = tenacity.Retrying(
            stop=(tenacity.stop_after_delay(self.retry_window)
                  | tenacity.stop_when_event_set(self.stopping)),
            wait=tenacity.wait_exponential(multiplier=self.retry_initial_delay,
                                           max=self.retry_max_delay),
            retry=tenacity.retry_if_exception_type(_Retry),
            sleep=self._sleep, before_sleep=log_retry, reraise=True)
        try:
            outcome: Outcome = retrying(attempt, *args)
        except _Retry as exc:
            reason = "shutting down" if self.stopping.is_set() else (
                f"still failing after {self.retry_window:.0f} s")
            LOG.warning("Requeuing %s (%s): %s", what, reason, exc)
            return Outcome.REQUEUE
        return outcome

    def _sleep(self, seconds: float) -> None:
        self.stopping.wait(seconds)  # a shutdown cuts the backoff short
