"""The confirmed publisher on the real broker, received by a pool-less oslo listener."""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import kombu
import pytest
from oslo_config import cfg

from harness.process import free_port
from notifications import host_down, messaging
from notifications.publisher import (
    Publisher,
    PublishError,
    QueueSpec,
    oslo_queue_arguments,
    parse_transport_url,
)

pytestmark = pytest.mark.rabbit
KEY = "functional-key"
TOPIC = "host_recovery"


class _Collector:
    def __init__(self) -> None:
        self.received: queue.Queue[tuple[str, str, Any]] = queue.Queue()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.received.put((publisher_id, event_type, payload))
        return messaging.handled()


def _conf(quorum: bool = False) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf([], project="host-recovery-test")
    messaging.register_transport_opts(conf)
    conf.set_override("amqp_durable_queues", True, "oslo_messaging_rabbit")
    conf.set_override("rabbit_quorum_queue", quorum, "oslo_messaging_rabbit")
    return conf


@contextlib.contextmanager
def _listener(url: str, conf: cfg.ConfigOpts) -> Iterator[_Collector]:
    transport = messaging.notification_transport(conf, url=url)
    collector = _Collector()
    listener = messaging.notification_listener(
        transport, [messaging.target(TOPIC, exchange="openstack")], [collector], pool=None)
    listener.start()
    try:
        yield collector
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()


def _payload() -> dict[str, Any]:
    return host_down.build_payload(
        "compute-7", incident_id=host_down.incident_id_for("compute-7", "manual@1"),
        failure_time=dt.datetime.now(dt.UTC), reporter="test", fencing_confirmed=True,
        source="cli", signing_key=KEY)


def _publisher(urls: list[str], spec: QueueSpec | None = None, **kw: Any) -> Publisher:
    kw.setdefault("total_timeout", 5.0)
    kw.setdefault("backoff_initial", 0.1)
    return Publisher(urls, exchange="openstack", routing_key=f"{TOPIC}.info",
                     queue=spec or QueueSpec(durable=True), connect_timeout=2.0,
                     confirm_timeout=5.0, **kw)


def _vhost(url: str) -> str:
    return unquote(urlsplit(url).path[1:])


def test_pool_less_oslo_listener_receives_a_confirmed_host_down(rabbit_url: str) -> None:
    with _listener(rabbit_url, _conf()) as collector:
        message_id = _publisher(parse_transport_url(rabbit_url)).publish(
            _payload, event_type="host_recovery.host.down", publisher_id="agent.ctl-1")
        publisher_id, event_type, payload = collector.received.get(timeout=30)
    assert (publisher_id, event_type) == ("agent.ctl-1", "host_recovery.host.down")
    event = host_down.parse_host_down(payload, signing_key=KEY, allow_unsigned=False,
                                      replay_window=900, clock_skew=60)
    assert event.host == "compute-7"
    assert len(message_id) == 36


def test_no_queue_means_failure_not_silent_success(rabbit, rabbit_url: str) -> None:
    vhost = _vhost(rabbit_url)
    with pytest.raises(PublishError, match=r"NOT_FOUND|404"):
        _publisher(parse_transport_url(rabbit_url), max_attempts=2).publish(
            _payload, event_type="e", publisher_id="p")
    assert rabbit.queue_depth(vhost, f"{TOPIC}.info") is None


def test_queue_not_bound_to_the_key_is_returned_as_unroutable(rabbit_url: str) -> None:
    url = parse_transport_url(rabbit_url)[0]
    with kombu.Connection(url) as conn:  # a queue of that name, bound to another key
        kombu.Queue(f"{TOPIC}.info", kombu.Exchange("openstack", type="topic"),
                    routing_key="other", durable=True, channel=conn.default_channel).declare()
    with pytest.raises(PublishError, match="unroutable"):
        _publisher([url], max_attempts=1).publish(_payload, event_type="e", publisher_id="p")


@pytest.mark.parametrize("quorum", [False, True])
def test_declaring_with_oslo_arguments_never_conflicts_with_oslo(rabbit, rabbit_url: str,
                                                                  quorum: bool) -> None:
    conf = _conf(quorum=quorum)
    spec = QueueSpec(durable=True, declare=True,
                     arguments=oslo_queue_arguments(conf.oslo_messaging_rabbit))
    _publisher(parse_transport_url(rabbit_url), spec).publish(
        _payload, event_type="host_recovery.host.down", publisher_id="p")
    assert rabbit.queue_depth(_vhost(rabbit_url), f"{TOPIC}.info") == 1
    # oslo's listener declares the same queue afterwards: no PRECONDITION_FAILED, and the
    # message published before any listener existed is delivered.
    with _listener(rabbit_url, conf) as collector:
        _, _, payload = collector.received.get(timeout=30)
    assert payload["search_opts"] == {"host": "compute-7"}


def test_second_url_is_used_when_the_first_broker_is_unreachable(rabbit_url: str) -> None:
    good = parse_transport_url(rabbit_url)[0]
    bad = good.replace(f":{urlsplit(good).port}/", f":{free_port()}/")
    with _listener(rabbit_url, _conf()) as collector:
        _publisher([bad, good], max_attempts=1).publish(
            _payload, event_type="host_recovery.host.down", publisher_id="p")
        assert collector.received.get(timeout=30)[2]["source"] == "cli"


def test_broker_stopped_fails_within_its_bound(own_rabbit) -> None:
    urls = parse_transport_url(own_rabbit.url("/"))
    own_rabbit.stop()
    started = time.monotonic()
    with pytest.raises(PublishError):
        _publisher(urls, total_timeout=3.0).publish(_payload, event_type="e",
                                                    publisher_id="p")
    # bound: total_timeout + one attempt (connect 2 s) + scheduling slack
    assert time.monotonic() - started < 3.0 + 2.0 + 3.0
