"""The listener's Prometheus metrics, on a registry of its own, and their HTTP exporter.

    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry)
    server = start_exporter(registry, host="127.0.0.1", port=9787)   # port 0: any free one
    metrics.consumed.labels(source="nova").inc()
    ...
    server.shutdown()

A registry is passed in (never the process-global default) so tests and several listeners in
one process do not share counters. ``METRIC_NAMES`` lists what the exporter serves; the
Grafana dashboard is checked against it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIServer

from oslo_log import log as logging
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from listener.periodic import Periodic

__all__ = ["CAPACITY_METRICS", "INCIDENT_STATES", "METRIC_NAMES", "CapacityGauges", "Exporter",
           "Metrics", "StatusRefresher", "start_exporter"]

LOG = logging.getLogger(__name__)
INCIDENT_STATES = ("held", "running", "done", "failed", "skipped")
# recoveries take seconds to minutes; confirmations milliseconds to seconds
_RECOVER_BUCKETS = (5, 10, 20, 30, 60, 90, 120, 180, 300, 600, 1200, float("inf"))
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, float("inf"))


class Metrics:
    """Every metric the listener exports."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.consumed = Counter(
            "host_recovery_notifications_consumed", "Notifications received, by source "
            "(host_down, nova).", ["source"], registry=registry)
        self.rejected = Counter(
            "host_recovery_notifications_rejected", "Notifications not acted on, by source "
            "and reason (unrelated, malformed, stale, gave_up...).", ["source", "reason"],
            registry=registry)
        self.dead_lettered = Counter(
            "host_recovery_notifications_dead_lettered", "Host-down notifications published "
            "to the dead-letter queue, by reason.", ["reason"], registry=registry)
        self.confirmations = Counter(
            "host_recovery_confirmations", "Nova events that reached a waiting evacuation, "
            "by outcome (completed, duplicate, not_ready).", ["outcome"], registry=registry)
        self.incidents = Counter(
            "host_recovery_incidents", "Incidents seen ending, by outcome (done, failed, "
            "skipped) or being held.", ["outcome"], registry=registry)
        self.incidents_current = Gauge(
            "host_recovery_incidents_current", "Incidents in Mistral now, by state.",
            ["state"], registry=registry)
        self.held = Gauge(
            "host_recovery_held_incidents", "Incidents waiting for operator approval.",
            registry=registry)
        self.vms_recovered = Counter(
            "host_recovery_vms_recovered", "VMs confirmed evacuated by this listener.",
            registry=registry)
        self.vms_failed = Counter(
            "host_recovery_vms_failed", "VMs whose evacuation failed (Nova's fault).",
            registry=registry)
        self.time_to_recover = Histogram(
            "host_recovery_time_to_recover_seconds", "From Nova accepting the evacuation to "
            "its confirmation.", buckets=_RECOVER_BUCKETS, registry=registry)
        self.confirmation_latency = Histogram(
            "host_recovery_confirmation_latency_seconds", "From Nova sending the event to "
            "the wait being completed.", buckets=_LATENCY_BUCKETS, registry=registry)
        self.signing_keys = Gauge(
            "host_recovery_signing_key_info", "1 for each key id this listener verifies "
            "host-downs with (no series: it cannot verify signatures).", ["key_id"],
            registry=registry)
        self.late = Counter(
            "host_recovery_late_host_downs", "Host-downs older than [host_down] "
            "replay_window that started (or found) their execution.", registry=registry)
        self.redeliveries = Counter(
            "host_recovery_redeliveries", "Host-downs handed back for another try (a "
            "bounded republish), by reason (internal, unsigned, forged, unknown_key, clock...).",
            ["reason"], registry=registry)
        self.dead_letter_messages = Gauge(
            "host_recovery_dead_letter_messages", "Messages in each dead-letter queue (ours "
            "and the broker's), as last read.", ["queue"], registry=registry)
        self.oldest_incident_age = Gauge(
            "host_recovery_oldest_incident_age_seconds", "Age of the oldest unfinished "
            "(running or held) incident; 0 when none.", registry=registry)
        self.stuck_incidents = Gauge(
            "host_recovery_stuck_incidents", "Running incidents without progress for "
            "[health] stuck_after (not held, not waiting for capacity) or holding a task "
            "IDLE for [health] idle_task_after.", registry=registry)
        self.capacity = CapacityGauges()
        registry.register(self.capacity)
        self._seen_ended: set[str] = set()
        self._lock = threading.Lock()
        for source in ("host_down", "nova"):
            self.consumed.labels(source=source)  # export zeros before the first message
        self.redeliveries.labels(reason="internal")  # rate() needs a first sample

    def set_signing_keys(self, key_ids: Iterable[str]) -> None:
        """Export the ids (never the secrets) of the keys this listener accepts."""
        for key_id in key_ids:
            self.signing_keys.labels(key_id=key_id).set(1)

    def observe_health(self, oldest_age: float, stuck: int,
                       dead_letters: dict[str, int]) -> None:
        """Refresh the health gauges (listener/health_probe.py)."""
        self.oldest_incident_age.set(oldest_age)
        self.stuck_incidents.set(stuck)
        for queue, depth in dead_letters.items():
            self.dead_letter_messages.labels(queue=queue).set(depth)

    def vm_outcome(self, recovered: bool) -> None:
        (self.vms_recovered if recovered else self.vms_failed).inc()

    def observe_incidents(self, incidents: Iterable[tuple[str, str]]) -> None:
        """Refresh from (incident id, state) pairs read from Mistral (listener/status.py).

        Gauges take the current numbers; the outcome counter counts each ended incident once
        per process (sum over listeners with max(), not sum()).
        """
        counts = dict.fromkeys(INCIDENT_STATES, 0)
        with self._lock:
            for incident_id, state in incidents:
                counts[state] = counts.get(state, 0) + 1
                if state in ("done", "failed", "skipped") and incident_id not in self._seen_ended:
                    self._seen_ended.add(incident_id)
                    self.incidents.labels(outcome=state).inc()
            for state, count in counts.items():
                self.incidents_current.labels(state=state).set(count)
            self.held.set(counts["held"])


METRIC_NAMES = frozenset({
    "host_recovery_notifications_consumed_total",
    "host_recovery_notifications_rejected_total",
    "host_recovery_notifications_dead_lettered_total",
    "host_recovery_confirmations_total",
    "host_recovery_incidents_total",
    "host_recovery_incidents_current",
    "host_recovery_held_incidents",
    "host_recovery_signing_key_info",
    "host_recovery_redeliveries_total",
    "host_recovery_late_host_downs_total",
    "host_recovery_dead_letter_messages",
    "host_recovery_oldest_incident_age_seconds",
    "host_recovery_stuck_incidents",
    "host_recovery_vms_recovered_total",
    "host_recovery_vms_failed_total",
    "host_recovery_time_to_recover_seconds_bucket",
    "host_recovery_time_to_recover_seconds_sum",
    "host_recovery_time_to_recover_seconds_count",
    "host_recovery_confirmation_latency_seconds_bucket",
    "host_recovery_confirmation_latency_seconds_sum",
    "host_recovery_confirmation_latency_seconds_count",
})


#: The failover-capacity gauges (listener/capacity_refresher.py): name -> (labels, help).
#: Served once the first refresh succeeded, from listener.operator.capacity.samples().
CAPACITY_METRICS = {
    "host_recovery_failover_capacity_absorbable": (
        ("host", "zone"), "1 when the cloud can absorb the loss of this host now."),
    "host_recovery_failover_capacity_n_plus_1": (
        ("scope", "name"), "1 when every host's loss in this scope (cloud, zone, "
        "aggregate) can be absorbed."),
    "host_recovery_failover_capacity_headroom": (
        ("scope", "name", "resource"), "Free capacity left in this scope after absorbing "
        "its worst host loss, by Placement resource class."),
    "host_recovery_failover_capacity_waiting_vms": (
        ("host",), "VMs of this host that would wait for capacity if it failed now."),
    "host_recovery_failover_capacity_reserved_needed": (
        ("host",), "Reserved hosts the recovery would enable to absorb this host's loss "
        "now (0: the enabled hosts suffice)."),
}


class CapacityGauges(Collector):
    """The last capacity report's samples, swapped whole so a scrape never sees half."""

    def __init__(self) -> None:
        self._samples: list[tuple[str, dict[str, str], float]] = []

    def update(self, samples: Iterable[tuple[str, dict[str, str], float]]) -> None:
        """Replace every sample (a host that is gone loses its series)."""
        self._samples = [s for s in samples if s[0] in CAPACITY_METRICS]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        samples = self._samples
        for name, (labels, text) in CAPACITY_METRICS.items():
            family = GaugeMetricFamily(name, text, labels=list(labels))
            for _, values, value in (s for s in samples if s[0] == name):
                family.add_metric([values.get(label, "") for label in labels], value)
            yield family


class Exporter:
    """A running exporter; ``port`` is the bound one (useful with port 0)."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.port: int = server.server_port

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_exporter(registry: CollectorRegistry, host: str = "127.0.0.1",
                   port: int = 9787) -> Exporter:
    """Serve ``registry`` on http://host:port/metrics from a daemon thread."""
    server, thread = start_http_server(port, addr=host, registry=registry)
    return Exporter(server, thread)


class StatusRefresher:
    """Refreshes the incident gauges from Mistral every ``interval`` s on a daemon thread.

    ``read`` returns (incident id, state) pairs, e.g.
    ``lambda: [(i.incident_id, i.state) for i in status.collect(api)]``.
    """

    def __init__(self, metrics: Metrics, read: Callable[[], Iterable[tuple[str, str]]],
                 interval: float = 15.0,
                 probe: Callable[[Metrics], None] | None = None) -> None:
        self._metrics = metrics
        self._read = read
        self._probe = probe
        self._interval = interval
        self._periodic = Periodic("metrics-status", self.refresh, interval,
                                  run_at_start=True, join_timeout=10.0)
        self.start, self.stop = self._periodic.start, self._periodic.stop

    def refresh(self) -> None:
        self._metrics.observe_incidents(list(self._read()))
        if self._probe is not None:
            self._probe(self._metrics)

