"""The OCF resource agent's monitor: find failed compute nodes, publish each host-down once.

Each failed node gets one record in the CIB (see agents.cluster): written as *pending*
before publishing, turned *sent* only after the broker confirmed. A failed publish leaves
it pending for the next monitor; a failover reads the same records, so it neither loses
nor duplicates an incident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from agents import cluster as cluster_mod
from agents.cluster import Record
from notifications.host_down import incident_id_for

LOG = logging.getLogger(__name__)


class Cluster(Protocol):
    """What scan needs from Pacemaker (agents.cluster, or a fake in unit tests)."""

    def fencings(self, target: str = "*") -> dict[str, dt.datetime]: ...
    def nodes_with_attribute(self, name: str, value: str) -> set[str]: ...
    def read_records(self, prefix: str) -> dict[str, Record]: ...
    def write_record(self, prefix: str, record: Record) -> None: ...
    def delete_record(self, prefix: str, node: str) -> None: ...


@dataclass(frozen=True)
class ScanResult:
    sent: list[str]
    failed: list[str]


def _epoch(event_key: str) -> int:
    return int(event_key.partition("@")[2] or 0)


def _desired(conf: cfg.ConfigOpts, cluster: Cluster, now: dt.datetime) -> dict[str, str]:
    """Event key per failed node: ``fenced@<epoch>`` from the fencing history, else
    ``attr@`` (epoch filled in when the record is created)."""
    agent = conf.agent
    wanted: dict[str, str] = {}
    if agent.use_fencing_history:
        for node, when in cluster.fencings().items():
            if (now - when).total_seconds() <= agent.fencing_max_age:
                wanted[node] = f"fenced@{int(when.timestamp())}"
    for node in cluster.nodes_with_attribute(agent.evacuate_attribute, agent.evacuate_value):
        wanted.setdefault(node, "attr@")
    if agent.compute_nodes:
        wanted = {n: k for n, k in wanted.items() if n in agent.compute_nodes}
    return wanted


def _reconcile(conf: cfg.ConfigOpts, cluster: Cluster, now: dt.datetime) -> list[Record]:
    """Create records for new failures, drop sent ones that ended; return pending ones."""
    prefix = conf.agent.state_prefix
    records = cluster.read_records(prefix)
    wanted = _desired(conf, cluster, now)
    for node, key in wanted.items():
        old = records.get(node)
        newer_fencing = (old is not None and key.startswith("fenced@")
                         and old.event_key.startswith("fenced@")
                         and _epoch(key) > _epoch(old.event_key))
        if old is not None and not newer_fencing:
            continue  # same failure: keep its key (set by whichever controller saw it first)
        event_key = f"attr@{int(now.timestamp())}" if key == "attr@" else key
        host = str(conf.agent.node_host_map.get(node, node))
        record = Record(node, "pending", event_key, incident_id_for(host, event_key))
        cluster.write_record(prefix, record)  # pending is durable before any publish
        records[node] = record
    for node, record in list(records.items()):
        if node not in wanted and record.state == "sent":
            cluster.delete_record(prefix, node)  # failure over: a new one is a new incident
            del records[node]
    return [r for r in records.values() if r.state == "pending"]


def scan(conf: cfg.ConfigOpts, send: Callable[..., Any], cluster: Cluster | None = None,
         now: dt.datetime | None = None) -> ScanResult:
    """One monitor pass. ``send`` is agents.service.send_host_down (or a fake)."""
    cluster = cluster or _ModuleCluster()
    now = now or dt.datetime.now(dt.UTC)
    prefix = conf.agent.state_prefix
    result = ScanResult([], [])
    for record in _reconcile(conf, cluster, now):
        host = str(conf.agent.node_host_map.get(record.node, record.node))
        try:
            send(conf, host, incident_id=record.incident_id,
                 failure_time=dt.datetime.fromtimestamp(_epoch(record.event_key), dt.UTC),
                 fencing_confirmed=record.event_key.startswith("fenced@"), source="ocf")
        except Exception as exc:  # any failure keeps it pending for the next monitor
            LOG.warning("Host-down for %s (incident %s) not confirmed, still pending: %s",
                        host, record.incident_id, exc)
            result.failed.append(record.incident_id)
            continue
        cluster.write_record(prefix, Record(record.node, "sent", record.event_key,
                                            record.incident_id))
        result.sent.append(record.incident_id)
    return result


class _ModuleCluster:
    """agents.cluster's functions as a Cluster object."""

    fencings = staticmethod(cluster_mod.fencings)
    nodes_with_attribute = staticmethod(cluster_mod.nodes_with_attribute)
    read_records = staticmethod(cluster_mod.read_records)
    write_record = staticmethod(cluster_mod.write_record)
    delete_record = staticmethod(cluster_mod.delete_record)
