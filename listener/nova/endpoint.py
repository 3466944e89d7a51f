"""The oslo.messaging endpoint on Nova's notifications: filter cheaply, hand off, ack.

Unrelated traffic (nearly all of a cloud's notifications) is dropped by event type with one
set lookup, before the payload is touched or Mistral is asked anything. Every priority is
implemented (oslo would ack the others unseen); an unexpected exception is retried a bounded
number of times (listener/redelivery.py) and then dead-lettered with reason ``internal``.
"""

from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from listener.metrics import Metrics
from listener.nova.confirmer import Confirmer, Outcome, ShuttingDown
from listener.redelivery import AllPriorities, Message, Settle, attempt_of, describe
from notifications import contract, messaging, nova
from notifications.contract import MistralRejected, MistralUnavailable

__all__ = ["NovaEndpoint"]

LOG = logging.getLogger(__name__)
SOURCE = "nova"


class NovaEndpoint(AllPriorities):
    """Every priority per oslo's duck typing; outcomes are values, never exceptions.

    ``settle`` retries and then dead-letters a message whose handling raised; without it
    (benches, unit tests) such a message is logged and acked.
    """

    def __init__(self, confirmer: Confirmer, metrics: Metrics | None = None,
                 legacy: bool = False, settle: Settle | None = None) -> None:
        self.confirmer = confirmer
        self.metrics = metrics
        self.legacy = legacy
        self.settle = settle
        self._handled = messaging.handled()
        self._requeue = messaging.requeue()

    def notify(self, priority: str, ctxt: Any, publisher_id: str, event_type: str,
               payload: Any, metadata: dict[str, Any]) -> Any:
        try:
            return self._handle(publisher_id, event_type, payload, metadata)
        except Exception as exc:  # a bug or an unexpected answer: bounded, never a hot loop
            message = Message(publisher_id, event_type, priority, payload,
                              dict(metadata or {}), attempt_of(ctxt))
            return self._internal(message, exc)

    def _internal(self, message: Message, exc: Exception) -> Any:
        detail = describe(exc)
        LOG.error("Unexpected error handling Nova %s message %s (delivery %s): %s",
                  str(message.event_type)[:128], message.message_id, message.attempt, detail,
                  exc_info=message.attempt == 1)  # the traceback once, not per retry
        self._reject("internal")
        if self.settle is None or self.settle(message, "internal", detail):
            return self._handled
        return self._requeue

    def _handle(self, publisher_id: str, event_type: str, payload: Any,
                metadata: dict[str, Any]) -> Any:
        if self.metrics is not None:
            self.metrics.consumed.labels(source=SOURCE).inc()
        if not nova.is_relevant(event_type, self.legacy):
            self._reject("filtered")
            return self._handled
        try:
            event = nova.parse(event_type, publisher_id, payload)
        except nova.MalformedNovaEvent as exc:
            # Nova's traffic is not ours to dead-letter: log it and move on
            LOG.warning("Malformed Nova %s from %s: %s", event_type, publisher_id, exc)
            self._reject("malformed")
            return self._handled
        try:
            outcome = self.confirmer.confirm(event, sent_at=_epoch(metadata))
        except MistralUnavailable as exc:
            LOG.error("Nova %s for instance %s: Mistral unavailable (%s); requeued",
                      event_type, event.instance_id, exc)
            self._reject("mistral_unavailable")
            return self._requeue
        except ShuttingDown:
            # another pool member takes it over at once (requeue, not ack)
            LOG.info("Nova %s for instance %s requeued: this listener stops", event_type,
                     event.instance_id)
            return self._requeue
        except MistralRejected as exc:
            # a request Mistral refuses will be refused again: log it, never loop on it
            LOG.error("Nova %s for instance %s: Mistral refused the lookup (%s); dropped",
                      event_type, event.instance_id, exc)
            self._reject("mistral_rejected")
            return self._handled
        if self.metrics is not None:
            if outcome in (Outcome.COMPLETED, Outcome.DUPLICATE, Outcome.NOT_READY):
                self.metrics.confirmations.labels(outcome=outcome.value).inc()
            else:
                self._reject(outcome.value)
        return self._handled

    def _reject(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.rejected.labels(source=SOURCE, reason=reason).inc()


def _epoch(metadata: dict[str, Any] | None) -> float | None:
    """oslo's metadata timestamp ("2025-03-01 12:00:00.123456", UTC) as epoch seconds."""
    return contract.accepted_epoch((metadata or {}).get("timestamp"))
