"""Bounded retries without a delivery count: republish with an attempt counter, then ack.

RabbitMQ 3.10 classic queues keep no delivery count and oslo's endpoints see neither
``redelivered`` nor the AMQP headers. So a retry is a *confirmed* republish of the original
envelope to its own queue, through the default exchange (no other pool gets a copy), with
``_context_host_recovery_attempt`` in the envelope: oslo hands it back as ``ctxt``::

    retry = Redelivery(urls, queue="host_recovery.info", delay=2.0, stopping=stopping,
                       ssl=kombu_ssl(conf.oslo_messaging_rabbit))
    message = Message(publisher_id, event_type, "INFO", payload, metadata, attempt_of(ctxt))
    if message.attempt < limit and retry.republish(message):
        ack()                       # the copy (attempt + 1) is confirmed in the queue

The delay is a short sleep in the handler, not a delay queue with a per-message TTL that
dead-letters back: broker-internal dead-lettering is at-most-once (a host-down could be
lost on the hop), it needs one more queue and policy per topic, and a few seconds of one
executor thread per retried message (attempts are bounded) costs nothing. A shutdown cuts
the sleep short. The original is acked only after the copy is confirmed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kombu.entity import Exchange, Queue
from oslo_log import log as logging

from notifications.confirmed import NotConfirmed, SslOptions, publish_confirmed

LOG = logging.getLogger(__name__)

__all__ = ["ATTEMPT_KEY", "AllPriorities", "DeadLetterSink", "Message", "Redelivery", "Settle",
           "attempt_of", "describe"]

#: Context key (``_context_<key>`` in the envelope) carrying the delivery attempt.
ATTEMPT_KEY = "host_recovery_attempt"
#: The notification priorities oslo's dispatcher knows (notify/dispatcher.py PRIORITIES).
PRIORITIES = ("audit", "debug", "info", "warn", "error", "critical", "sample")
_CREDENTIALS = re.compile(r"://[^/@\s]+@")
_DETAIL_MAX = 500


@dataclass(frozen=True)
class Message:
    """One notification as oslo's dispatcher hands it over, with its delivery attempt."""

    publisher_id: str
    event_type: str
    priority: str
    payload: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    attempt: int = 1

    def original(self) -> dict[str, Any]:
        return {"publisher_id": self.publisher_id, "event_type": self.event_type,
                "priority": self.priority, "payload": self.payload,
                "metadata": dict(self.metadata)}

    @property
    def message_id(self) -> str:
        return str(self.metadata.get("message_id", "?"))

    @property
    def incident_id(self) -> str:
        """The claimed incident id (for log lines; unverified)."""
        payload = self.payload if isinstance(self.payload, dict) else {}
        return str(payload.get("incident_id", "?"))[:64]


def attempt_of(ctxt: Any) -> int:
    """The delivery attempt carried in oslo's context (1 when absent or not a number)."""
    raw = ctxt.get(ATTEMPT_KEY) if isinstance(ctxt, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return 1
    try:
        return max(1, int(raw))
    except ValueError:
        return 1


def describe(exc: BaseException) -> str:
    """'<type>: <message>' for a dead letter: bounded, URL credentials masked."""
    text = _CREDENTIALS.sub("://***@", f"{type(exc).__name__}: {exc}")
    return text if len(text) <= _DETAIL_MAX else text[:_DETAIL_MAX] + "..."


class Redelivery:
    """Republishes a message to its queue with ``attempt + 1``, after a short delay."""

    def __init__(self, urls: Sequence[str], *, queue: str, delay: float,
                 stopping: threading.Event | None = None, durable: bool = True,
                 connect_timeout: float = 5.0, confirm_timeout: float = 10.0,
                 ssl: SslOptions = False) -> None:
        self.urls = list(urls)
        self.queue = queue
        self.delay = delay
        self.stopping = stopping or threading.Event()
        self.durable = durable
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self.ssl = ssl

    @staticmethod
    def envelope(message: Message, attempt: int) -> dict[str, str]:
        """The oslo v2 envelope of ``message`` with ``attempt`` in its context."""
        body = {"message_id": message.metadata.get("message_id"),
                "publisher_id": message.publisher_id, "event_type": message.event_type,
                "priority": message.priority.upper(), "payload": message.payload,
                "timestamp": message.metadata.get("timestamp"),
                f"_context_{ATTEMPT_KEY}": attempt}
        return {"oslo.version": "2.0", "oslo.message": json.dumps(body)}

    def republish(self, message: Message) -> bool:
        """Wait ``delay``, then publish attempt + 1, confirmed; False if not confirmed."""
        self.stopping.wait(self.delay)  # a shutdown cuts it short
        default = Exchange("", durable=self.durable)
        queue = Queue(self.queue, exchange=default, routing_key=self.queue,
                      durable=self.durable)
        try:
            body = self.envelope(message, message.attempt + 1)
            # passive: oslo owns the queue and its arguments
            publish_confirmed(self.urls, default, queue, body, declare_queue=False, ssl=self.ssl,
                              connect_timeout=self.connect_timeout,
                              confirm_timeout=self.confirm_timeout)
        except (NotConfirmed, TypeError, ValueError) as exc:
            LOG.warning("Could not republish message %s (incident %s) to %s as attempt %s: "
                        "%s", message.message_id, message.incident_id, self.queue,
                        message.attempt + 1, exc)
            return False
        LOG.info("Message %s (incident %s) republished to %s as attempt %s",
                 message.message_id, message.incident_id, self.queue, message.attempt + 1)
        return True


class DeadLetterSink(Protocol):
    def publish(self, reason: str, detail: str, original: dict[str, Any]) -> None: ...


class Settle:
    """Another try while ``attempt < attempts``, then a dead letter: True means ack."""

    def __init__(self, redelivery: Redelivery, dead_letters: DeadLetterSink,
                 attempts: int) -> None:
        self.redelivery = redelivery
        self.dead_letters = dead_letters
        self.attempts = attempts

    def __call__(self, message: Message, reason: str, detail: str) -> bool:
        if message.attempt < self.attempts:
            return self.redelivery.republish(message)
        LOG.warning("Dead-lettering message %s from %s (incident %s, delivery %s): %s: %s",
                    message.message_id, message.publisher_id, message.incident_id,
                    message.attempt, reason, detail)
        try:
            self.dead_letters.publish(reason, detail, message.original())
        except NotConfirmed as exc:
            LOG.warning("Dead letter of message %s not confirmed (%s): requeued after %s s",
                        message.message_id, exc, self.redelivery.delay)
            self.redelivery.stopping.wait(self.redelivery.delay)  # never a hot loop
            return False
        return True


class AllPriorities:
    """Endpoint methods for every priority, so oslo never acks a body we did not see.

    oslo's dispatcher acks a message whose priority no endpoint implements before any of
    our code runs; subclasses implement ``notify``.
    """

    def notify(self, priority: str, ctxt: Any, publisher_id: str, event_type: str,
               payload: Any, metadata: dict[str, Any]) -> Any:
        raise NotImplementedError

    def audit(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
              metadata: dict[str, Any]) -> Any:
        return self.notify("AUDIT", ctxt, publisher_id, event_type, payload, metadata)

    def debug(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
              metadata: dict[str, Any]) -> Any:
        return self.notify("DEBUG", ctxt, publisher_id, event_type, payload, metadata)

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
             metadata: dict[str, Any]) -> Any:
        return self.notify("INFO", ctxt, publisher_id, event_type, payload, metadata)

    def warn(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
             metadata: dict[str, Any]) -> Any:
        return self.notify("WARN", ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
              metadata: dict[str, Any]) -> Any:
        return self.notify("ERROR", ctxt, publisher_id, event_type, payload, metadata)

    def critical(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
                 metadata: dict[str, Any]) -> Any:
        return self.notify("CRITICAL", ctxt, publisher_id, event_type, payload, metadata)

    def sample(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
               metadata: dict[str, Any]) -> Any:
        return self.notify("SAMPLE", ctxt, publisher_id, event_type, payload, metadata)
