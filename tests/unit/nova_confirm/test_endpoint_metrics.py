"""NovaEndpoint filtering and result values; the exporter serves what Metrics defines."""

import prometheus_client
import requests

from listener.metrics import METRIC_NAMES, Metrics, start_exporter
from listener.nova.confirmer import Outcome
from listener.nova.endpoint import NovaEndpoint
from notifications import messaging
from notifications.contract import MistralUnavailable
from tests.unit.nova_confirm.samples import sample


class _Confirmer:
    def __init__(self, result=Outcome.COMPLETED):
        self.result = result
        self.events = []

    def confirm(self, event, sent_at=None):
        self.events.append((event, sent_at))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _endpoint(result=Outcome.COMPLETED, legacy=False):
    registry = prometheus_client.CollectorRegistry()
    confirmer = _Confirmer(result)
    return NovaEndpoint(confirmer, Metrics(registry), legacy=legacy), confirmer, registry


def _deliver(endpoint, name, metadata=None):
    msg = sample(name)
    method = endpoint.error if msg["priority"] == "ERROR" else endpoint.info
    return method({}, msg["publisher_id"], msg["event_type"], msg["payload"],
                  metadata or {"timestamp": "2025-03-01 12:00:00.500000"})


def test_unrelated_event_never_reaches_the_confirmer():
    endpoint, confirmer, registry = _endpoint()
    assert _deliver(endpoint, "instance-update") == messaging.handled()
    assert _deliver(endpoint, "instance-rebuild-start") == messaging.handled()
    assert confirmer.events == []
    assert registry.get_sample_value("host_recovery_notifications_rejected_total",
                                     {"source": "nova", "reason": "filtered"}) == 2


def test_rebuild_end_is_handed_off_with_the_send_time():
    endpoint, confirmer, registry = _endpoint()
    assert _deliver(endpoint, "instance-rebuild-end") == messaging.handled()
    event, sent_at = confirmer.events[0]
    assert event.dest_host == "compute"
    assert sent_at == 1740830400.5
    assert registry.get_sample_value("host_recovery_confirmations_total",
                                     {"outcome": "completed"}) == 1


def test_mistral_outage_requeues():
    endpoint, _confirmer, _registry = _endpoint(MistralUnavailable("down"))
    assert _deliver(endpoint, "instance-rebuild-error") == messaging.requeue()


def test_malformed_relevant_event_is_acked_and_counted():
    endpoint, confirmer, registry = _endpoint()
    assert endpoint.info({}, "nova-compute:x", "instance.rebuild.end", {"x": 1}, {}) == \
        messaging.handled()
    assert confirmer.events == []
    assert registry.get_sample_value("host_recovery_notifications_rejected_total",
                                     {"source": "nova", "reason": "malformed"}) == 1


def test_exporter_serves_every_listed_metric_name():
    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry)
    metrics.rejected.labels(source="nova", reason="filtered").inc()
    metrics.dead_lettered.labels(reason="forged").inc()
    metrics.confirmations.labels(outcome="completed").inc()
    metrics.observe_incidents([("a", "done"), ("b", "held")])
    metrics.vm_outcome(True)
    metrics.vm_outcome(False)
    metrics.time_to_recover.observe(12)
    metrics.confirmation_latency.observe(0.02)
    metrics.set_signing_keys(["2026-01"])
    metrics.observe_health(10, 0, {"host_recovery.dead_letter": 0})
    exporter = start_exporter(registry, port=0)
    try:
        text = requests.get(f"http://127.0.0.1:{exporter.port}/metrics", timeout=5).text
    finally:
        exporter.shutdown()
    served = {line.split("{")[0].split(" ")[0] for line in text.splitlines()
              if line and not line.startswith("#")}
    assert METRIC_NAMES <= served
    assert 'host_recovery_held_incidents 1.0' in text


def test_ended_incidents_are_counted_once_per_process():
    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry)
    metrics.observe_incidents([("a", "done"), ("b", "failed")])
    metrics.observe_incidents([("a", "done"), ("b", "failed"), ("c", "skipped")])
    get = registry.get_sample_value
    assert get("host_recovery_incidents_total", {"outcome": "done"}) == 1
    assert get("host_recovery_incidents_total", {"outcome": "skipped"}) == 1
    assert get("host_recovery_incidents_current", {"state": "failed"}) == 1
