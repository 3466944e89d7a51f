"""On the real broker: ``host-recovery setup-broker`` makes the broker keep what oslo's driver
cannot decode (rejected without requeue -> our dead-letter exchange, with ``x-death``), on
the host-down queue and on the Nova pool; the driver's tracebacks are rate-limited; a valid
host-down after them starts; a conflicting operator policy is reported, not displaced.
Takes about 15 s with the session's Mistral up."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from kombu.connection import Connection

from harness.mistral import MistralServer
from harness.rabbit import RabbitBroker
from listener.broker_admin import BrokerAdmin
from tests.functional.broker import consumers, drain_raw, setup_broker
from tests.functional.listener import support

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral]

UNDECODABLE = [b"\xff\xfe", b"{truncated", b"[1, 2", b"\x00" * 64]


def publish_raw(amqp_url: str, exchange: str, routing_key: str, bodies: list[bytes]) -> None:
    with Connection(amqp_url) as conn:
        producer = conn.Producer()
        for body in bodies:
            producer.publish(body, exchange=exchange, routing_key=routing_key,
                             content_type="application/json", content_encoding="binary")


def test_undecodable_bodies_are_kept_by_the_broker(
        rabbit: RabbitBroker, rabbit_url: str, mistral: MistralServer,
        tmp_path: Path) -> None:
    vhost = unquote(rabbit_url.rsplit("/", 1)[1])
    done = setup_broker(rabbit, rabbit_url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    workflow_file = support.ensure_stand_in(mistral.api_url, tmp_path / "wf.yaml")
    listener = support.ListenerProcess(tmp_path, "dlx-1", rabbit_url, mistral.api_url,
                                       workflow_file)
    listener.start()
    amqp = rabbit.amqp_url(vhost)
    host, incident_id = support.incident(0, "dlx")
    try:
        # ready means consuming host-downs; the Nova pool's consumer may come a moment later,
        # and a body sent to "nova" before its queue is bound is dropped as unroutable
        support.wait_for(lambda: (consumers(amqp, "host-recovery-nova") or 0) >= 1, 30,
                         "the listener consuming the Nova pool")
        publish_raw(amqp, "openstack", "host_recovery.info", UNDECODABLE)
        publish_raw(amqp, "nova", "versioned_notifications.info", UNDECODABLE[:2])
        support.send(support.publisher(rabbit_url), [support.payload(host, incident_id)])
        support.wait_for(lambda: (rabbit.queue_depth(vhost, "host_recovery.broker_dead_letter")
                                  or 0) >= len(UNDECODABLE), 30, "host-down bodies kept")
        support.wait_for(lambda: (rabbit.queue_depth(
            vhost, "host-recovery-nova.broker_dead_letter") or 0) >= 2, 30, "pool bodies kept")
        support.wait_for(lambda: support.executions_for(mistral.api_url, {incident_id}), 30,
                         "the valid host-down started")
        tracebacks = listener.text().count("Failed to process message")
    finally:
        listener.terminate()
    kept = drain_raw(amqp, "host_recovery.broker_dead_letter")
    assert sorted(body for body, _ in kept) == sorted(UNDECODABLE)
    for _body, death in kept:
        assert death["reason"] == "rejected" and death["queue"] == "host_recovery.info"
    assert len(drain_raw(amqp, "host-recovery-nova.broker_dead_letter")) == 2
    assert tracebacks == 1  # the first one; the rest are counted per minute


def test_a_higher_operator_policy_is_reported_not_displaced(
        rabbit: RabbitBroker, rabbit_url: str, tmp_path: Path) -> None:
    vhost = unquote(rabbit_url.rsplit("/", 1)[1])
    rabbit.set_policy(vhost, "ops-cap", "^host-recovery-nova$", {"max-length": 7},
                      priority=50)
    rabbit.set_policy(vhost, "ops-ha", ".*", {"queue-master-locator": "min-masters"})
    done = setup_broker(rabbit, rabbit_url, tmp_path)
    assert done.returncode == 1
    assert "conflict: operator policy ops-cap" in done.stdout
    assert "merged keys of ops-ha" in done.stdout
    names = {p["name"]: p for p in rabbit_policies(rabbit, vhost)}
    assert names["ops-cap"]["definition"] == {"max-length": 7}
    assert "host-recovery-nova-pool" not in names
    assert names["host-recovery-host-down"]["definition"]["queue-master-locator"] \
        == "min-masters"


def rabbit_policies(rabbit: RabbitBroker, vhost: str) -> list[dict[str, Any]]:
    return BrokerAdmin(f"http://127.0.0.1:{rabbit.http_port}", "guest", "guest").policies(vhost)
