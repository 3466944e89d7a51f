"""The Prometheus alert rules use only metrics the listener exports, and cover health."""

import re
from pathlib import Path

import yaml

from listener.metrics import METRIC_NAMES

RULES = Path(__file__).resolve().parents[3] / "etc/prometheus/host-recovery.rules.yml"
METRIC = re.compile(r"\bhost_recovery_[a-z_]+\b")
HEALTH = {"host_recovery_dead_letter_messages", "host_recovery_redeliveries_total",
          "host_recovery_stuck_incidents", "host_recovery_oldest_incident_age_seconds",
          "host_recovery_signing_key_info", "host_recovery_late_host_downs_total"}


def _rules():
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def test_every_rule_uses_only_exported_metrics():
    rules = _rules()
    assert rules
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used, f"{rule['alert']}: uses none of our metrics"
        assert used <= METRIC_NAMES, f"{rule['alert']}: unknown {sorted(used - METRIC_NAMES)}"
        assert rule["labels"]["severity"] in ("warning", "critical")


def test_every_health_metric_has_an_alert():
    used = {m for rule in _rules() for m in METRIC.findall(rule["expr"])}
    assert HEALTH <= used
