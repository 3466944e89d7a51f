"""The application-level dead-letter queue: host-downs that can never start a recovery.

Each record is published with publisher confirms (and ``mandatory``) *before* the original
message is acked, so nothing is acked unrecorded::

    letters = DeadLetters.from_conf(conf)
    letters.publish(reason="forged", detail="signature: does not match", original={...})

Body: ``{"reason", "detail", "listener", "received_at", "original": {publisher_id,
event_type, priority, payload, metadata}}``; header ``x-host-recovery-reason``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from kombu.entity import Exchange, Queue
from oslo_config import cfg

from notifications.confirmed import NotConfirmed, SslOptions, publish_confirmed
from notifications.publisher import kombu_ssl, oslo_queue_arguments, parse_transport_url

__all__ = ["DeadLetterError", "DeadLetters"]


class DeadLetterError(NotConfirmed):
    """The broker did not confirm the dead-letter record (transient: retry, do not ack)."""


def _encodable(original: dict[str, Any]) -> dict[str, Any]:
    """``original``, or its repr when it cannot be JSON-encoded (never a retry loop on it)."""
    try:
        json.dumps(original).encode("utf-8")
    except (TypeError, ValueError, UnicodeError) as exc:
        return {"unencodable": f"{type(exc).__name__}: {exc}",
                "repr": repr(original)[:65536]}
    return original


class DeadLetters:
    """Publishes dead-letter records to one durable queue in the host-down exchange."""

    def __init__(self, urls: Sequence[str], *, exchange: str, queue: str, listener: str,
                 durable: bool = True, queue_arguments: dict[str, Any] | None = None,
                 connect_timeout: float = 5.0, confirm_timeout: float = 10.0,
                 ssl: SslOptions = False) -> None:
        if not urls:
            raise ValueError("no broker URL")
        self.urls = list(urls)
        self.exchange = Exchange(exchange, type="topic", durable=durable,
                                       auto_delete=False)
        self.queue_name = queue
        self.listener = listener
        self.queue_arguments = queue_arguments or {}
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self.ssl = ssl

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> DeadLetters:
        rabbit = conf.oslo_messaging_rabbit
        return cls(parse_transport_url(conf.transport_url), exchange=conf.host_down.exchange,
                   queue=conf.listener.dead_letter_queue, listener=conf.listener.name,
                   durable=rabbit.amqp_durable_queues,
                   queue_arguments=oslo_queue_arguments(rabbit), ssl=kombu_ssl(rabbit))

    def record(self, reason: str, detail: str, original: dict[str, Any],
               received_at: dt.datetime | None = None) -> dict[str, Any]:
        """The dead-letter body for ``original``."""
        when = received_at or dt.datetime.now(dt.UTC)
        return {"reason": reason, "detail": detail, "listener": self.listener,
                "received_at": when.isoformat(), "original": _encodable(original)}

    def publish(self, reason: str, detail: str, original: dict[str, Any]) -> None:
        """Publish one record; DeadLetterError unless the broker confirmed it into the queue."""
        queue = Queue(self.queue_name, exchange=self.exchange, routing_key=self.queue_name,
                      durable=True, queue_arguments=self.queue_arguments or None)
        try:
            publish_confirmed(self.urls, self.exchange, queue,
                              self.record(reason, detail, original),
                              headers={"x-host-recovery-reason": reason}, ssl=self.ssl,
                              connect_timeout=self.connect_timeout,
                              confirm_timeout=self.confirm_timeout)
        except NotConfirmed as exc:
            raise DeadLetterError(str(exc)) from exc
