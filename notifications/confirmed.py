"""One AMQP publish that the broker confirmed into a queue (publisher confirms + mandatory).

The building block of everything we must not lose: host-downs (``publisher.Publisher``) and
dead letters (``listener.dead_letter``)::

    publish_confirmed(urls, exchange, queue, body, ssl=ssl, connect_timeout=5,
                      confirm_timeout=10)

It returns only when the broker acked the message and did not return it as unroutable;
anything else raises ``NotConfirmed``. ``ssl`` is kombu's: False (plain AMQP), True (TLS,
system CAs) or TLS options (``publisher.kombu_ssl`` makes them from
``[oslo_messaging_rabbit]``, as oslo does for its own connections).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

__all__ = ["NotConfirmed", "SslOptions", "connect", "publish_confirmed", "ssl_for"]

#: kombu's ``ssl``: False (plain AMQP), True (TLS, system CAs), or ``ssl`` wrap options.
SslOptions = bool | dict[str, Any]


class NotConfirmed(RuntimeError):
    """The broker did not confirm the message into a queue."""


def ssl_for(url: str, ssl: SslOptions) -> SslOptions:
    """``ssl`` for one connection to ``url``: ``server_hostname`` None becomes its host.

    A fresh dict each time: kombu writes the first broker's name into the caller's dict and
    on failover verifies the next broker against that name, which fails.
    """
    if not isinstance(ssl, dict):
        return ssl
    options = dict(ssl)
    if "server_hostname" in options and options["server_hostname"] is None:
        options["server_hostname"] = urllib.parse.urlsplit(url).hostname
    return options


def connect(urls: str | Sequence[str], *, ssl: SslOptions = False,
            connect_timeout: float = 5.0,
            transport_options: dict[str, Any] | None = None) -> Connection:
    """A connection to the first of ``urls`` that answers: one attempt each, no waiting.

    One kombu Connection per URL rather than kombu's failover, so that each broker's
    certificate is checked against its own name (``ssl_for``). Raises the last error.
    """
    candidates = [urls] if isinstance(urls, str) else list(urls)
    if not candidates:
        raise ValueError("no broker URL")
    for url in candidates[:-1]:
        try:
            return _connect_once(url, ssl, connect_timeout, transport_options)
        except Exception:  # noqa: S112 (the next broker may answer; the last error is raised)
            continue
    return _connect_once(candidates[-1], ssl, connect_timeout, transport_options)


def _connect_once(url: str, ssl: SslOptions, connect_timeout: float,
                  transport_options: dict[str, Any] | None) -> Connection:
    conn = Connection(url, ssl=ssl_for(url, ssl), connect_timeout=connect_timeout,
                      transport_options=transport_options or {})
    try:
        conn.ensure_connection(max_retries=0)  # one attempt: callers own the backoff
    except Exception:
        conn.release()
        raise
    return conn


def publish_confirmed(urls: str | Sequence[str], exchange: Exchange, queue: Queue,
                      body: Any, *, declare_queue: bool = True,
                      headers: dict[str, Any] | None = None, ssl: SslOptions = False,
                      connect_timeout: float = 5.0, confirm_timeout: float = 10.0) -> None:
    """Publish ``body`` (JSON) to ``queue``'s routing key in ``exchange``, confirmed.

    ``urls``: one kombu URL, or several tried in turn (one connection attempt each).
    ``declare_queue=False`` declares the queue passively: its owner (oslo) chose its
    arguments and binding, and we must never declare different ones (an existing but
    unbound queue then makes the publish come back unroutable: not confirmed).
    """
    returned: list[str] = []

    def on_return(exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        returned.append(str(exc))

    try:
        conn = connect(urls, ssl=ssl, connect_timeout=connect_timeout,
                       transport_options={"confirm_publish": True})
    except Exception as exc:  # kombu/amqp/socket/TLS errors all mean "not confirmed"
        raise NotConfirmed(f"{type(exc).__name__}: {exc}") from exc
    try:
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
