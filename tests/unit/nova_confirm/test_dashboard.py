"""Every query of the Grafana dashboard uses metrics the exporter really serves."""

import json
import re
from pathlib import Path

import prometheus_client
import requests

from listener.metrics import METRIC_NAMES, Metrics, start_exporter

DASHBOARD = Path(__file__).resolve().parents[3] / "etc/grafana/host-recovery-dashboard.json"
METRIC = re.compile(r"\bhost_recovery_[a-z_]+\b")


def _exprs():
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def _served_names():
    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry)
    metrics.confirmation_latency.observe(0.1)
    exporter = start_exporter(registry, port=0)
    try:
        text = requests.get(f"http://127.0.0.1:{exporter.port}/metrics", timeout=5).text
    finally:
        exporter.shutdown()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines()
            if line and not line.startswith("#")} | {
        line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}


def test_every_query_uses_only_exported_metrics():
    served = _served_names() | METRIC_NAMES
    exprs = _exprs()
    assert exprs
    for expr in exprs:
        used = set(METRIC.findall(expr))
        assert used, f"query uses none of our metrics: {expr}"
        assert used <= served, f"{expr}: unknown {sorted(used - served)}"


def test_every_exported_metric_family_is_on_the_dashboard():
    used = {m for expr in _exprs() for m in METRIC.findall(expr)}
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in METRIC_NAMES}
    assert families <= {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used}
