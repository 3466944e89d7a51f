"""Unrelated Nova traffic filtered per listener: ``python -m bench.nova_filter [--quick]``.

Two figures:
* endpoint only: ``NovaEndpoint.info`` called in a loop on Nova's own sample payloads
  (what the type filter costs, no broker);
* on a real RabbitMQ (harness): our pool queue ``host-recovery-nova`` is pre-filled with N
  unrelated versioned notifications (oslo v2 envelopes published with kombu, as Nova's
  notifier sends them), then one ``NovaEventListener`` (threading executor, prefetch as
  given) drains it; messages/s = N / drain time.

Prints a table and writes ``bench-results/nova_filter-<time>.json``. Publisher, broker and
listener share the machine (2 cores here): the figures are a floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import prometheus_client
from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Producer
from oslo_config import cfg

from harness.rabbit import RabbitBroker
from listener.conf import nova_notifications as nova_conf
from listener.metrics import Metrics
from listener.nova import NovaEndpoint, NovaEventListener
from listener.nova.confirmer import Outcome
from notifications import messaging

RESULTS = Path(__file__).resolve().parents[2] / "bench-results"
SAMPLES = Path(__file__).resolve().parents[2] / "tests/data/nova-notification-samples"
# a cloud's everyday traffic: state updates, periodic exists, actions of other VMs
UNRELATED = ["instance-update", "instance-rebuild-start", "instance-evacuate",
             "service-update", "instance-rebuild_scheduled"]


class _NoLookups:
    """Confirmer stand-in: any relevant event would count; there should be none."""

    calls = 0

    def confirm(self, event: Any, sent_at: float | None = None) -> Outcome:
        self.calls += 1
        return Outcome.UNRELATED


def _messages() -> list[dict[str, Any]]:
    from tests.unit.nova_confirm.samples import sample

    assert SAMPLES.exists(), SAMPLES
    return [sample(name) for name in UNRELATED]


def bench_endpoint(count: int) -> dict[str, Any]:
    metrics = Metrics(prometheus_client.CollectorRegistry())
    confirmer = _NoLookups()
    endpoint = NovaEndpoint(confirmer, metrics)  # type: ignore[arg-type]
    msgs = _messages()
    meta = {"timestamp": "2025-03-01 12:00:00.000000", "message_id": "x"}
    started = time.perf_counter()
    for i in range(count):
        m = msgs[i % len(msgs)]
        endpoint.info({}, m["publisher_id"], m["event_type"], m["payload"], meta)
    seconds = time.perf_counter() - started
    assert confirmer.calls == 0
    return {"what": "endpoint only (no broker)", "messages": count, "seconds": seconds,
            "per_second": count / seconds}


def _conf(url: str, prefetch: int) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    messaging.register_transport_opts(conf)
    nova_conf.register_opts(conf)
    conf([], project="host-recovery-bench")
    conf.set_override("transport_url", url)
    conf.set_override("rabbit_qos_prefetch_count", prefetch, group="oslo_messaging_rabbit")
    return conf


def _publish(amqp_url: str, count: int) -> float:
    bodies = []
    for m in _messages():
        inner = {"message_id": str(uuid.uuid4()), "publisher_id": m["publisher_id"],
                 "event_type": m["event_type"], "priority": m["priority"],
                 "payload": m["payload"], "timestamp": str(dt.datetime.now(dt.UTC))[:26]}
        bodies.append((m["priority"].lower(),
                       json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)})))
    started = time.perf_counter()
    with Connection(amqp_url) as conn:
        exchange = Exchange("nova", type="topic", durable=False)
        producer = Producer(conn.default_channel, exchange=exchange)
        for i in range(count):
            priority, body = bodies[i % len(bodies)]
            producer.publish(body, routing_key=f"versioned_notifications.{priority}",
                             content_type="application/json", content_encoding="utf-8")
    return time.perf_counter() - started


def bench_broker(broker: RabbitBroker, count: int, prefetch: int) -> dict[str, Any]:
    vhost = f"bench-{uuid.uuid4().hex[:8]}"
    url = broker.new_vhost(vhost)
    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry)
    confirmer = _NoLookups()
    listener = NovaEventListener(_conf(url, prefetch), metrics=metrics,
                                 confirmer=confirmer)  # type: ignore[arg-type]
    listener.start()  # declares the pool queue and its bindings
    listener.stop()
    listener.wait()
    publish_s = _publish(broker.amqp_url(vhost), count)
    depth = broker.queue_depth(vhost, "host-recovery-nova")
    listener = NovaEventListener(_conf(url, prefetch), metrics=metrics, confirmer=confirmer)  # type: ignore[arg-type]
    started = time.perf_counter()
    listener.start()
    deadline = time.monotonic() + 600
    while (registry.get_sample_value("host_recovery_notifications_consumed_total",
                                     {"source": "nova"}) or 0) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("listener did not drain the queue in 600 s")
        time.sleep(0.01)  # polling a counter: the listener has no completion callback
    seconds = time.perf_counter() - started
    listener.stop()
    listener.wait()
    assert confirmer.calls == 0
    return {"what": f"1 listener, real RabbitMQ, prefetch {prefetch}", "messages": count,
            "queued_before": depth, "publish_seconds": publish_s, "seconds": seconds,
            "per_second": count / seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages")
    args = parser.parse_args(argv)
    n_endpoint, n_broker = (20_000, 3_000) if args.quick else (200_000, 20_000)
    rows = [bench_endpoint(n_endpoint)]
    with tempfile.TemporaryDirectory(prefix="bench-nova-") as tmp:
        broker = RabbitBroker(Path(tmp) / "rabbit")
        broker.start()
        try:
            for prefetch in (4, 64):
                rows.append(bench_broker(broker, n_broker, prefetch))
        finally:
            broker.stop()
    print(f"{'setup':<42} {'messages':>9} {'seconds':>8} {'msg/s':>9}")
    for row in rows:
        print(f"{row['what']:<42} {row['messages']:>9} {row['seconds']:>8.2f} "
              f"{row['per_second']:>9.0f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"nova_filter-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"unrelated_types": UNRELATED, "results": rows}, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
