"""Readings behind the health checks: dead-letter depths, listeners' metrics, past readings.

    depths = dead_letter_depths(conf, timeout=5)      # {queue: messages}, passive declares
    scraped = scrape(url, timeout=5)                   # {(name, labels): value}
    probe = metrics_probe(conf, api)                   # StatusRefresher(..., probe=probe)

Used by ``host-recovery health`` (listener/operator/health.py) and, through
``metrics_probe``, by every listener's health gauges.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kombu.connection import Connection
from oslo_config import cfg
from oslo_log import log as logging
from prometheus_client.parser import text_string_to_metric_families

from listener import incident_health
from listener.metrics import Metrics
from notifications.confirmed import connect
from notifications.publisher import kombu_ssl, parse_transport_url

__all__ = [
    "Samples",
    "State",
    "broker_connection",
    "dead_letter_depths",
    "dead_letter_queues",
    "metrics_probe",
    "scrape",
]

LOG = logging.getLogger(__name__)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def dead_letter_queues(conf: cfg.ConfigOpts) -> list[str]:
    """Our dead-letter queue and the operator-listed ones ([health] dead_letter_queues)."""
    names = [conf.listener.dead_letter_queue, *conf.health.dead_letter_queues]
    return list(dict.fromkeys(n for n in names if n))


def broker_connection(conf: cfg.ConfigOpts, timeout: float) -> Connection:
    """A connection to the first broker of ``transport_url`` that answers, TLS as oslo's."""
    return connect(parse_transport_url(conf.transport_url),
                   ssl=kombu_ssl(conf.oslo_messaging_rabbit), connect_timeout=timeout)


def dead_letter_depths(conf: cfg.ConfigOpts, timeout: float) -> dict[str, int]:
    """Messages in each dead-letter queue; a queue not declared yet counts 0."""
    depths: dict[str, int] = {}
    with broker_connection(conf, timeout) as conn:
        for name in dead_letter_queues(conf):
            channel = conn.channel()
            try:
                # passive: read the depth without declaring (or re-arguing) the queue
                depths[name] = int(channel.queue_declare(name, passive=True).message_count)
            except conn.channel_errors:  # 404: nothing dead-lettered yet
                depths[name] = 0
            finally:
                if channel.is_open:
                    channel.close()
    return depths


def scrape(url: str, timeout: float) -> Samples:
    """A listener's /metrics as {(sample name, sorted labels): value}."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (checked)
        text = response.read().decode("utf-8")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


class State:
    """The previous run's readings (``[health] state_file``), for growth and rates."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.previous: dict[str, Any] = {}
        if self.path is not None and self.path.exists():
            try:
                self.previous = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.previous = {}  # unreadable: as if first run
        self.current: dict[str, Any] = {"at": time.time()}

    def since(self, key: str, value: float) -> tuple[float, float] | None:
        """(change, seconds) since the previous run's ``key``; None on a first run."""
        self.current[key] = value
        if key not in self.previous or "at" not in self.previous:
            return None
        return value - float(self.previous[key]), self.current["at"] - float(
            self.previous["at"])

    def save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.current))


def metrics_probe(conf: cfg.ConfigOpts, api: Any,
                  timeout: float = 10.0) -> Callable[[Metrics], None]:
    """Refreshes a listener's health gauges (oldest age, stuck, dead-letter depths)."""
    def probe(metrics: Metrics) -> None:
        report = incident_health.assess(api, conf.health.stuck_after,
                                        idle_task_after=conf.health.idle_task_after)
        try:
            depths = dead_letter_depths(conf, timeout)
        except Exception as exc:  # broker away: keep the last depths, say why once a round
            LOG.warning("could not read dead-letter queue depths: %s", exc)
            depths = {}
        metrics.observe_health(report.oldest_age, len(report.stuck), depths)
    return probe
