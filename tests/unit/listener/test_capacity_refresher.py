"""The failover-capacity gauges: the refresher runs the capacity action as a stored action,
polls its end, exports the report; never two at once; the alert rules use only what is
exported."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
import yaml
from oslo_config import cfg

from listener.capacity_refresher import CapacityRefresher
from listener.conf import capacity as capacity_conf
from listener.metrics import CAPACITY_METRICS, METRIC_NAMES, Metrics
from listener.operator.capacity import CAPACITY_ACTION, samples
from notifications.contract import MistralError

RULES = Path(__file__).resolve().parents[3] / "etc/prometheus/capacity-alerts.yml"
METRIC = re.compile(r"\bhost_recovery_[a-z_0-9]+\b")
REPORT = {
    "hosts": {"c1": {"zone": "nova", "absorbable": True, "not_placed": 0},
              "c2": {"zone": "nova", "absorbable": False, "not_placed": 3}},
    "cloud": {"n_plus_1": False, "headroom": [10, 2048, 100]},
    "zones": {"nova": {"n_plus_1": False, "headroom": [10, 2048, 100]}},
    "aggregates": {}, "resources": ["VCPU", "MEMORY_MB", "DISK_GB"], "vms": 7,
}


class FakeMistral:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows          # get_action_execution answers these in turn (last repeats)
        self.started: list[tuple[str, dict[str, Any]]] = []

    def start_action(self, name: str, action_input: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
        self.started.append((name, action_input or {}))
        return {"id": f"a{len(self.started)}", "state": "RUNNING"}

    def get_action_execution(self, action_execution_id: str) -> dict[str, Any]:
        return self.rows.pop(0) if len(self.rows) > 1 else self.rows[0]


def _refresher(rows: list[dict[str, Any]], timeout: float = 5.0
               ) -> tuple[CapacityRefresher, FakeMistral, Metrics]:
    conf = cfg.ConfigOpts()
    capacity_conf.register_opts(conf)
    conf([])
    mistral = FakeMistral(rows)
    metrics = Metrics(prometheus_client.CollectorRegistry())
    refresher = CapacityRefresher(conf, mistral, metrics, poll=0.01)
    refresher._timeout = timeout  # below the option's minimum, for a quick test
    return refresher, mistral, metrics


def _served(metrics: Metrics) -> str:
    return prometheus_client.generate_latest(metrics.registry).decode()


def test_a_refresh_runs_the_stored_action_and_exports_the_report() -> None:
    done = {"state": "SUCCESS", "output": json.dumps({"result": REPORT})}
    refresher, mistral, metrics = _refresher([{"state": "RUNNING"}, done])
    assert "failover_capacity_absorbable{" not in _served(metrics)  # nothing before
    assert refresher.refresh() == REPORT
    assert mistral.started == [(CAPACITY_ACTION, {})]
    text = _served(metrics)
    assert 'host_recovery_failover_capacity_absorbable{host="c2",zone="nova"} 0.0' in text
    assert 'host_recovery_failover_capacity_waiting_vms{host="c2"} 3.0' in text
    assert ('host_recovery_failover_capacity_headroom{name="nova",resource="MEMORY_MB",'
            'scope="zone"} 2048.0') in text
    assert 'host_recovery_failover_capacity_n_plus_1{name="cloud",scope="cloud"} 0.0' in text
    metrics.capacity.update([])  # a host that is gone loses its series
    assert 'host="c2"' not in _served(metrics)


def test_no_second_action_while_the_first_still_runs_and_failures_keep_the_last_values(
) -> None:
    refresher, mistral, metrics = _refresher([{"state": "RUNNING"}], timeout=0.05)
    assert refresher.refresh() is None          # did not end within the timeout
    assert refresher.refresh() is None          # still running: nothing new started
    assert len(mistral.started) == 1
    mistral.rows = [{"state": "SUCCESS", "output": {"result": REPORT}}]
    assert refresher.refresh() == REPORT        # the old one ended: a new one runs
    assert len(mistral.started) == 2
    mistral.rows = [{"state": "ERROR", "state_info": "Placement unreachable"}]
    with pytest.raises(MistralError, match="Placement unreachable"):
        refresher.refresh()
    assert 'host_recovery_failover_capacity_absorbable{host="c1"' in _served(metrics)


def test_the_capacity_alert_rules_use_only_exported_metrics_and_labels() -> None:
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert rules
    metrics = Metrics(prometheus_client.CollectorRegistry())
    metrics.capacity.update(samples(REPORT))
    served = {line.split("{")[0].split(" ")[0] for line in _served(metrics).splitlines()
              if line and not line.startswith("#")}
    assert set(CAPACITY_METRICS) <= served
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used, f"{rule['alert']}: uses none of our metrics"
        assert used <= METRIC_NAMES | set(CAPACITY_METRICS), rule["alert"]
        labels = set(re.findall(r"\$labels\.([a-z_]+)", json.dumps(rule["annotations"])))
        labels |= set(re.findall(r"([a-z_]+)=\"", rule["expr"]))
        known = {label for name in used for label in CAPACITY_METRICS[name][0]}
        assert labels <= known, (rule["alert"], labels - known)
        assert rule["labels"]["severity"] in ("info", "warning", "critical")
