"""From a host-down message to a started recovery: verify, dead-letter or start, idempotently.

The plain class behind the oslo endpoint; its collaborators are injected::

    starter = RecoveryStarter(mistral, dead_letters, parse, workflow=contract.RECOVER_HOST, ...)
    outcome = starter.handle(Message(publisher_id, event_type, "INFO", payload, metadata))

* invalid (malformed, unsigned, forged, replayed...) → dead-lettered, then ``HANDLED`` (ack);
* valid → ``POST /v2/executions`` with id = incident id (Mistral returns the existing
  execution for a known id, so duplicates are no-ops), then ``HANDLED``;
* transient failures (Mistral or the broker unreachable) are retried here with exponential
  backoff for ``retry_window`` seconds, then ``REQUEUE``: one redelivery per window at most.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import tenacity
from oslo_log import log as logging

from listener.host_down.dead_letter import DeadLetterError
from listener.metrics import Metrics
from notifications.contract import MistralError, MistralUnavailable
from notifications.host_down import HostDown, InvalidHostDown

LOG = logging.getLogger(__name__)

__all__ = ["Message", "Outcome", "RecoveryStarter"]


class Outcome(enum.Enum):
    HANDLED = "handled"
    REQUEUE = "requeue"


@dataclass(frozen=True)
class Message:
    """One notification as oslo's dispatcher hands it over."""

    publisher_id: str
    event_type: str
    priority: str
    payload: Any
    metadata: dict[str, Any]

    def original(self) -> dict[str, Any]:
        return {"publisher_id": self.publisher_id, "event_type": self.event_type,
                "priority": self.priority, "payload": self.payload,
                "metadata": dict(self.metadata)}

    @property
    def message_id(self) -> str:
        return str(self.metadata.get("message_id", "?"))


class Executions(Protocol):
    def start_execution(self, execution_id: str, workflow: str,
                        workflow_input: dict[str, Any]) -> dict[str, Any]: ...


class DeadLetterSink(Protocol):
    def publish(self, reason: str, detail: str, original: dict[str, Any]) -> None: ...


class _Retry(Exception):
    """An attempt failed transiently (wraps the cause, for tenacity)."""


class RecoveryStarter:
    """Turns one host-down message into exactly one Mistral execution (or a dead letter)."""

    def __init__(self, executions: Executions, dead_letters: DeadLetterSink,
                 parse: Callable[[Any], HostDown], *, workflow: str, event_type: str,
                 retry_window: float, retry_initial_delay: float = 0.5,
                 retry_max_delay: float = 30.0, stopping: threading.Event | None = None,
                 metrics: Metrics | None = None) -> None:
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

    def handle(self, message: Message) -> Outcome:
        """HANDLED once Mistral accepted the incident or the message is dead-lettered."""
        if self._metrics is not None:
            self._metrics.consumed.labels(source="host_down").inc()
        try:
            if message.event_type != self.event_type:
                raise InvalidHostDown("malformed", f"event_type: {message.event_type!r} is "
                                                   f"not {self.event_type!r}")
            event = self._parse(message.payload)
        except InvalidHostDown as exc:
            return self._dead_letter(message, exc)
        LOG.info("Host-down for incident %s host %s (message %s from %s): starting execution "
                 "%s", event.incident_id, event.host, message.message_id,
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

    def _dead_letter(self, message: Message, exc: InvalidHostDown) -> Outcome:
        payload = message.payload if isinstance(message.payload, dict) else {}
        incident = payload.get("incident_id", "?")
        LOG.warning("Dead-lettering host-down message %s from %s (incident %s): %s: %s",
                    message.message_id, message.publisher_id, incident, exc.reason,
                    exc.detail)

        def publish() -> Outcome:
            try:
                self._dead_letters.publish(exc.reason, exc.detail, message.original())
            except DeadLetterError as err:
                raise _Retry(f"dead-letter publish failed: {err}") from err
            if self._metrics is not None:
                self._metrics.rejected.labels(source="host_down", reason=exc.reason).inc()
                self._metrics.dead_lettered.labels(reason=exc.reason).inc()
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
