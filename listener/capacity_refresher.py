"""Failover-capacity gauges: the listener runs ``host_recovery.capacity`` every few minutes.

Every [capacity] interval s a daemon thread starts the action pack's
``host_recovery.capacity`` (what ``host-recovery capacity`` runs; Placement and Nova
credentials live on Mistral's side) as a stored ad-hoc action and polls its end for at most
[capacity] timeout s; the report becomes the ``host_recovery_failover_capacity_*`` gauges
(listener.operator.capacity.samples). Scrapes only read the last report. A refresh never
starts while the previous action still runs (a slow Placement does not pile up actions)::

    CapacityRefresher(conf, mistral, metrics).start()    # the service does this; stop()
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import tenacity
from oslo_config import cfg
from oslo_log import log as logging

from listener.metrics import Metrics
from listener.operator.capacity import CAPACITY_ACTION, samples
from listener.periodic import Periodic
from notifications.contract import MistralError

LOG = logging.getLogger(__name__)

__all__ = ["CapacityRefresher", "Runs"]


class Runs(Protocol):
    """What the refresher needs from listener.mistral_api.MistralAPI."""

    def start_action(self, name: str, action_input: dict[str, Any] | None = None
                     ) -> dict[str, Any]: ...

    def get_action_execution(self, action_execution_id: str) -> dict[str, Any]: ...


def _result(row: dict[str, Any], name: str) -> dict[str, Any]:
    if row.get("state") != "SUCCESS":
        raise MistralError(f"{name} ended {row.get('state')}: {row.get('state_info')}")
    output = row.get("output") or {}
    output = json.loads(output) if isinstance(output, str) else output
    result = output.get("result") if isinstance(output, dict) else None
    return result if isinstance(result, dict) else {}


class CapacityRefresher:
    """The periodic capacity report on a daemon thread (started and stopped by the service)."""

    def __init__(self, conf: cfg.ConfigOpts, mistral: Runs, metrics: Metrics,
                 poll: float = 1.0) -> None:
        self._mistral = mistral
        self._metrics = metrics
        self._interval = float(conf.capacity.interval)
        self._timeout = float(conf.capacity.timeout)
        self._poll = poll
        self._running: str | None = None  # the action execution still running, if any
        self._periodic = Periodic("capacity", self.refresh, self._interval,
                                  run_at_start=True, join_timeout=10.0)
        self.start, self.stop = self._periodic.start, self._periodic.stop

    def refresh(self) -> dict[str, Any] | None:
        """One refresh: the report exported, or None (the previous action still runs, or
        this one did not end within the timeout: the gauges keep their last values)."""
        if self._running is not None:
            if self._mistral.get_action_execution(self._running).get("state") == "RUNNING":
                LOG.warning("capacity: action execution %s still running, no new refresh",
                            self._running)
                return None
            self._running = None
        started = self._mistral.start_action(CAPACITY_ACTION, {})
        self._running = str(started["id"])
        poll = tenacity.Retrying(
            stop=tenacity.stop_after_delay(self._timeout) | tenacity.stop_when_event_set(
                self._periodic.stopping),
            wait=tenacity.wait_fixed(self._poll),
            retry=tenacity.retry_if_result(lambda got: got.get("state") == "RUNNING"),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else {})
        row: dict[str, Any] = poll(self._mistral.get_action_execution, self._running)
        if row.get("state") == "RUNNING":
            LOG.warning("capacity: action execution %s still running after %.0f s",
                        self._running, self._timeout)
            return None
        self._running = None
        report = _result(row, CAPACITY_ACTION)
        self._metrics.capacity.update(samples(report))
        LOG.info("capacity: %d hosts, %d VMs, cloud N+1 %s (action execution %s)",
                 len(report.get("hosts") or {}), report.get("vms", 0),
                 (report.get("cloud") or {}).get("n_plus_1"), started["id"])
        return report


