"""Confirmed publisher of host-down notifications (kombu, publisher confirms, mandatory).

oslo's Notifier drops a message when the broker is down; this one reports success only when
the broker acked the message and did not return it as unroutable::

    publisher = Publisher(parse_transport_url("rabbit://u:p@h1:5672,u:p@h2:5672/"),
                          exchange="openstack", routing_key="host_recovery.info",
                          queue=QueueSpec(durable=True),
                          ssl=kombu_ssl(conf.oslo_messaging_rabbit))
    message_id = publisher.publish(lambda: build_payload(...),   # rebuilt (sent_at) per try
                                   event_type="host_recovery.host.down",
                                   publisher_id="host-recovery.agent.ctl-1")

It raises PublishError once its bounded retries are exhausted.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl as ssl_module
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import tenacity
from kombu.entity import Exchange, Queue
from oslo_log import log as logging

from notifications.confirmed import NotConfirmed, SslOptions, publish_confirmed

LOG = logging.getLogger(__name__)

__all__ = ["PublishError", "Publisher", "QueueSpec", "envelope", "kombu_ssl",
           "oslo_queue_arguments", "parse_transport_url"]

#: ``[oslo_messaging_rabbit] ssl_version`` values oslo accepts (lower case), by ssl constant.
_SSL_VERSIONS = {"tlsv1": "PROTOCOL_TLSv1", "sslv23": "PROTOCOL_SSLv23",
                 "sslv2": "PROTOCOL_SSLv2", "sslv3": "PROTOCOL_SSLv3",
                 "tlsv1_1": "PROTOCOL_TLSv1_1", "tlsv1_2": "PROTOCOL_TLSv1_2"}


class PublishError(NotConfirmed):
    """The broker did not confirm the host-down into a queue (after one attempt)."""


@dataclass(frozen=True)
class QueueSpec:
    """How the listeners' queue is declared: passively, or exactly as oslo declares it."""

    durable: bool = True
    auto_delete: bool = False
    declare: bool = False
    arguments: dict[str, Any] = field(default_factory=dict)


def oslo_queue_arguments(rabbit: Any) -> dict[str, Any]:
    """Queue arguments oslo computes for a topic queue from ``[oslo_messaging_rabbit]``.

    Mirrors impl_rabbit's ``_get_queue_arguments`` for topic/notification queues (no TTL,
    no stream); a unit test compares both so a change in oslo is caught.
    """
    args: dict[str, Any] = {}
    if rabbit.rabbit_ha_queues:
        args["x-ha-policy"] = "all"
    if rabbit.rabbit_quorum_queue:
        args["x-queue-type"] = "quorum"
        for opt, arg in (("rabbit_quorum_delivery_limit", "x-delivery-limit"),
                         ("rabbit_quorum_max_memory_length", "x-max-in-memory-length"),
                         ("rabbit_quorum_max_memory_bytes", "x-max-in-memory-bytes")):
            if getattr(rabbit, opt):
                args[arg] = getattr(rabbit, opt)
    return args


def kombu_ssl(rabbit: Any) -> SslOptions:
    """kombu's ``ssl`` from ``[oslo_messaging_rabbit]``: what oslo gives its own connections.

    Mirrors impl_rabbit's ``_fetch_ssl_params`` (a unit test compares both): False when
    ``ssl`` is off, True (system CAs) when on without files, else the options, with
    hostname verification when a CA file is set. oslo names the broker only for a
    one-host URL; our ``server_hostname`` None is each broker's own name (``ssl_for``).
    """
    if not rabbit.ssl:
        return False
    params: dict[str, Any] = {}
    if rabbit.ssl_version:
        protocol = getattr(ssl_module, _SSL_VERSIONS.get(rabbit.ssl_version.lower(), ""), None)
        if protocol is None:  # oslo refuses it too (RuntimeError when it connects)
            raise ValueError(f"[oslo_messaging_rabbit] ssl_version {rabbit.ssl_version!r}: "
                             f"not one of {', '.join(sorted(_SSL_VERSIONS))}")
        params["ssl_version"] = protocol
    if rabbit.ssl_key_file:
        params["keyfile"] = rabbit.ssl_key_file
    if rabbit.ssl_cert_file:
        params["certfile"] = rabbit.ssl_cert_file
    if rabbit.ssl_ca_file:
        params["ca_certs"] = rabbit.ssl_ca_file
        params["cert_reqs"] = ssl_module.CERT_REQUIRED
        params["server_hostname"] = None
    return params or True


def parse_transport_url(url: str) -> list[str]:
    """kombu AMQP URLs, one per host of an oslo ``rabbit://u:p@h1:p1,u:p@h2:p2/vhost`` URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("rabbit", "amqp", "pyamqp"):
        raise ValueError(f"transport_url: unsupported scheme {parts.scheme!r}")
    if not parts.netloc:
        raise ValueError("transport_url: no host")
    vhost = urllib.parse.unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    # oslo: an empty path means the default vhost "/"; kombu needs it quoted.
    vhost_part = urllib.parse.quote(vhost or "/", safe="")
    return [f"amqp://{netloc}/{vhost_part}" for netloc in parts.netloc.split(",") if netloc]


def envelope(payload: dict[str, Any], *, event_type: str, publisher_id: str,
             message_id: str, priority: str = "INFO") -> dict[str, str]:
    """The oslo.messaging v2 envelope (what ``Notifier(driver="messagingv2")`` sends)."""
    message = {
        "message_id": message_id,
        "publisher_id": publisher_id,
        "event_type": event_type,
        "priority": priority,
        "payload": payload,
        "timestamp": str(dt.datetime.now(dt.UTC).replace(tzinfo=None)),
    }
    return {"oslo.version": "2.0", "oslo.message": json.dumps(message)}


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://***@{host}{parts.path}"


class Publisher:
    """Publishes to one exchange/routing key, trying each broker URL in turn per attempt.

    An attempt costs at most ``len(urls) * (connect_timeout + confirm_timeout)``; attempts
    stop once ``total_timeout`` has passed, so ``publish`` returns or raises within about
    ``total_timeout`` plus one attempt.
    """

    def __init__(self, urls: Sequence[str], *, exchange: str, routing_key: str,
                 queue: QueueSpec, connect_timeout: float = 5.0,
                 confirm_timeout: float = 10.0, total_timeout: float = 30.0,
                 backoff_initial: float = 0.5, backoff_max: float = 5.0,
                 max_attempts: int = 0, ssl: SslOptions = False) -> None:
        if not urls:
            raise ValueError("no broker URL")
        self.urls = list(urls)
        self.ssl = ssl
        self.exchange = Exchange(exchange, type="topic", durable=queue.durable,
                                 auto_delete=queue.auto_delete)
        self.routing_key = routing_key
        self.queue = queue
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        stop: Any = tenacity.stop_after_delay(total_timeout)
        if max_attempts > 0:
            stop = stop | tenacity.stop_after_attempt(max_attempts)
        self._retrying = tenacity.Retrying(
            stop=stop, reraise=True,
            wait=tenacity.wait_exponential(multiplier=backoff_initial, max=backoff_max),
            retry=tenacity.retry_if_exception_type(PublishError),
            before_sleep=self._log_retry)

    def publish(self, payload_factory: Callable[[], dict[str, Any]], *, event_type: str,
                publisher_id: str) -> str:
        """Publish until confirmed (returns the message id) or raise PublishError."""
        message_id = str(uuid.uuid4())
        result: str = self._retrying(self._attempt, payload_factory, event_type,
                                     publisher_id, message_id)
        return result

    def _attempt(self, payload_factory: Callable[[], dict[str, Any]], event_type: str,
                 publisher_id: str, message_id: str) -> str:
        errors = []
        for url in self.urls:
            body = envelope(payload_factory(), event_type=event_type,
                            publisher_id=publisher_id, message_id=message_id)
            try:
                self._publish_once(url, body)
            except PublishError as exc:
                errors.append(f"{_redact(url)}: {exc}")
                continue
            LOG.info("Host-down %s confirmed by %s (routing key %s)", message_id,
                     _redact(url), self.routing_key)
            return message_id
        raise PublishError("; ".join(errors))

    def _publish_once(self, url: str, body: dict[str, str]) -> None:
        queue = Queue(self.routing_key, exchange=self.exchange, routing_key=self.routing_key,
                      durable=self.queue.durable, auto_delete=self.queue.auto_delete,
                      queue_arguments=self.queue.arguments or None)
        try:
            # Passive by default: the listeners (oslo) own the queue and its arguments.
            publish_confirmed(url, self.exchange, queue, body,
                              declare_queue=self.queue.declare, ssl=self.ssl,
                              connect_timeout=self.connect_timeout,
                              confirm_timeout=self.confirm_timeout)
        except NotConfirmed as exc:
            raise PublishError(str(exc)) from exc

    @staticmethod
    def _log_retry(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        LOG.warning("Host-down publish attempt %s failed (%s); retrying in %.1f s",
                    state.attempt_number, exc,
                    state.next_action.sleep if state.next_action else 0.0)
