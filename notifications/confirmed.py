"""One AMQP publish that the broker confirmed into a queue (publisher confirms + mandatory).

The building block of everything we must not lose: host-downs (``publisher.Publisher``) and
dead letters (``listener.dead_letter``)::

    publish_confirmed(urls, exchange, queue, body, connect_timeout=5, confirm_timeout=10)

It returns only when the broker acked the message and did not return it as unroutable;
anything else raises ``NotConfirmed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

__all__ = ["NotConfirmed", "publish_confirmed"]


class NotConfirmed(RuntimeError):
    """The broker did not confirm the message into a queue."""


def publish_confirmed(urls: str | Sequence[str], exchange: Exchange, queue: Queue,
                      body: Any, *, declare_queue: bool = True,
                      headers: dict[str, Any] | None = None, connect_timeout: float = 5.0,
                      confirm_timeout: float = 10.0) -> None:
    """Publish ``body`` (JSON) to ``queue``'s routing key in ``exchange``, confirmed.

    ``urls``: one kombu URL, or several tried round-robin (one connection attempt each).
    ``declare_queue=False`` declares the queue passively: its owner (oslo) chose its
    arguments and binding, and we must never declare different ones (an existing but
    unbound queue then makes the publish come back unroutable: not confirmed).
    """
    returned: list[str] = []

    def on_return(exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        returned.append(str(exc))

    candidates = [urls] if isinstance(urls, str) else list(urls)
    conn = Connection(candidates, connect_timeout=connect_timeout,
                      failover_strategy="round-robin",
                      transport_options={"confirm_publish": True})
    try:
        # one attempt per URL, no waiting in between: callers own the backoff
        conn.ensure_connection(max_retries=len(candidates) - 1, interval_start=0,
                               interval_step=1, interval_max=1)
        channel = conn.channel()
        exchange.bind(channel).declare()
        bound = queue.bind(channel)
        if declare_queue:
            bound.declare()
        else:
            bound.queue_declare(passive=True)
        producer = Producer(channel, exchange=exchange, on_return=on_return)
        producer.publish(body, routing_key=queue.routing_key, serializer="json",
                         mandatory=True, delivery_mode=2 if queue.durable else 1,
                         headers=headers, timeout=confirm_timeout)
    except Exception as exc:  # kombu/amqp/socket errors all mean "not confirmed"
        raise NotConfirmed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.release()
    if returned:
        raise NotConfirmed(f"returned unroutable: {returned[0]}")
