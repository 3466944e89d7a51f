"""The reporters' logic: find failed compute nodes, publish each host-down once, with the
fencing evidence Pacemaker holds.

Each failed node gets one record in the CIB (see agents.cluster), created atomically by
whichever reporter (the OCF agent's monitor or the alert agent) sees the failure first; the
other reuses its incident id. It is written *pending* before publishing, turned *sent* only
after the broker confirmed. A failed publish leaves it pending for the next monitor; a
failover reads the same records, so it neither loses nor duplicates an incident. A record
whose node is no longer failed is dropped, pending or sent: a host that came back is never
reported late.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from agents import cluster as cluster_mod
from agents.cluster import ClusterError, FenceEvent, Record
from notifications.host_down import FencingEvidence, incident_id_for, make_evidence

LOG = logging.getLogger(__name__)
CLAIM_ATTEMPTS = 3


class Cluster(Protocol):
    """What scan needs from Pacemaker (agents.cluster, or a fake in unit tests)."""

    def fencings(self, target: str = "*") -> dict[str, FenceEvent]: ...
    def nodes_with_attribute(self, name: str, value: str) -> set[str]: ...
    def read_records(self, prefix: str) -> dict[str, Record]: ...
    def create_record(self, prefix: str, record: Record) -> bool: ...
    def update_record(self, prefix: str, record: Record) -> bool: ...
    def delete_record(self, prefix: str, node: str) -> None: ...


@dataclass(frozen=True)
class ScanResult:
    sent: list[str]
    failed: list[str]


def _epoch(event_key: str) -> int:
    return int(event_key.partition("@")[2] or 0)


def _host(conf: cfg.ConfigOpts, node: str) -> str:
    return str(conf.agent.node_host_map.get(node, node))


def evidence(conf: cfg.ConfigOpts, event: FenceEvent | None) -> FencingEvidence | None:
    """The evidence record of a fencing event (target: the node's Nova host)."""
    if event is None:
        return None
    return make_evidence("pacemaker_fencing", _host(conf, event.target), event.completed,
                         action=event.action, executioner=event.executioner,
                         origin=event.origin)


def _supersedes(key: str, old: Record) -> bool:
    """A newer fencing of a node is a new failure; anything else is the same one."""
    return (key.startswith("fenced@") and old.event_key.startswith("fenced@")
            and _epoch(key) > _epoch(old.event_key))


def claim(conf: cfg.ConfigOpts, cluster: Cluster, node: str, key: str,
          now: dt.datetime) -> Record:
    """The node's record for this failure: a new pending one if we created it, else the
    existing one (its incident id is reused); a record of an older fencing is replaced."""
    prefix = conf.agent.state_prefix
    event_key = f"attr@{int(now.timestamp())}" if key == "attr@" else key
    new = Record(node, "pending", event_key, incident_id_for(_host(conf, node), event_key))
    for _attempt in range(CLAIM_ATTEMPTS):
        if cluster.create_record(prefix, new):  # pending is durable before any publish
            return new
        old = cluster.read_records(prefix).get(node)
        if old is None:
            continue  # removed meanwhile: try again
        if not _supersedes(key, old):
            return old
        # Both reporters derive the same key from the same history: a lost race between
        # two replacements yields the same incident id.
        cluster.delete_record(prefix, node)
    raise ClusterError(f"no incident record for {node} after {CLAIM_ATTEMPTS} attempts")


def _failed(conf: cfg.ConfigOpts, cluster: Cluster, now: dt.datetime
            ) -> tuple[dict[str, str], dict[str, FenceEvent]]:
    """Event key per failed node (``fenced@<epoch>`` from the fencing history, else
    ``attr@``, epoch filled in when the record is created) and the fencing events."""
    agent = conf.agent
    events: dict[str, FenceEvent] = {}
    if agent.use_fencing_history:
        events = {node: event for node, event in cluster.fencings().items()
                  if (now - event.completed).total_seconds() <= agent.fencing_max_age}
    wanted = {node: f"fenced@{int(event.completed.timestamp())}"
              for node, event in events.items()}
    for node in cluster.nodes_with_attribute(agent.evacuate_attribute, agent.evacuate_value):
        wanted.setdefault(node, "attr@")
    if agent.compute_nodes:
        wanted = {n: k for n, k in wanted.items() if n in agent.compute_nodes}
    return wanted, events


def _reconcile(conf: cfg.ConfigOpts, cluster: Cluster, now: dt.datetime
               ) -> tuple[list[Record], dict[str, FenceEvent]]:
    """Claim records for new failures, drop those of nodes no longer failed; return the
    pending ones. A ClusterError while reading leaves every record as it is."""
    prefix = conf.agent.state_prefix
    records = cluster.read_records(prefix)
    wanted, events = _failed(conf, cluster, now)
    for node, key in wanted.items():
        old = records.get(node)
        if old is None or _supersedes(key, old):
            records[node] = claim(conf, cluster, node, key, now)
    for node, record in list(records.items()):
        if conf.agent.compute_nodes and node not in conf.agent.compute_nodes:
            # Not ours to judge: another reporter (an alert agent, a monitor configured for
            # other nodes) owns it. Deleting it under that reporter lost its incident record
            # and failed its publish (cib_modify: No such device or address).
            del records[node]
            continue
        if node not in wanted:
            if record.state == "pending":
                LOG.warning("Host-down for %s (incident %s) dropped unpublished: the node is "
                            "no longer reported failed", _host(conf, node), record.incident_id)
            cluster.delete_record(prefix, node)  # failure over: a new one is a new incident
            del records[node]
    return [r for r in records.values() if r.state == "pending"], events


def publish(conf: cfg.ConfigOpts, cluster: Cluster, send: Callable[..., Any],
            record: Record, event: FenceEvent | None, source: str) -> None:
    """Send the record's host-down with the node's fencing evidence, then mark it sent."""
    proof = evidence(conf, event)
    send(conf, _host(conf, record.node), incident_id=record.incident_id,
         failure_time=dt.datetime.fromtimestamp(_epoch(record.event_key), dt.UTC),
         fencing_confirmed=proof is not None, fencing_evidence=proof, source=source)
    sent = Record(record.node, "sent", record.event_key, record.incident_id)
    if not cluster.update_record(conf.agent.state_prefix, sent):
        # The broker confirmed it: the host-down is out. A record removed meanwhile means a
        # reporter judged the failure over; nothing is left to mark.
        LOG.warning("Host-down for %s (incident %s) sent, but its record was removed "
                    "meanwhile", _host(conf, record.node), record.incident_id)


def scan(conf: cfg.ConfigOpts, send: Callable[..., Any], cluster: Cluster | None = None,
         now: dt.datetime | None = None) -> ScanResult:
    """One monitor pass. ``send`` is agents.service.send_host_down (or a fake).

    Raises ClusterError when Pacemaker cannot be read (never taken as "no failure").
    """
    cluster = cluster or ModuleCluster()
    now = now or dt.datetime.now(dt.UTC)
    result = ScanResult([], [])
    pending, events = _reconcile(conf, cluster, now)
    for record in pending:
        try:
            publish(conf, cluster, send, record, events.get(record.node), "ocf")
        except ClusterError:
            raise
        except Exception as exc:  # any publish failure keeps it pending for the next monitor
            LOG.warning("Host-down for %s (incident %s) not confirmed, still pending: %s",
                        _host(conf, record.node), record.incident_id, exc)
            result.failed.append(record.incident_id)
            continue
        result.sent.append(record.incident_id)
    return result


def alert(conf: cfg.ConfigOpts, send: Callable[..., Any], node: str,
          cluster: Cluster | None = None) -> str | None:
    """The alert agent: publish the fencing of ``node`` under the node's shared incident
    record; the incident id, or None when the history has no off/reboot of it."""
    cluster = cluster or ModuleCluster()
    event = cluster.fencings(node).get(node)
    if event is None:
        return None
    key = f"fenced@{int(event.completed.timestamp())}"
    record = claim(conf, cluster, node, key, dt.datetime.now(dt.UTC))
    publish(conf, cluster, send, record, event, "alert")
    return record.incident_id


class ModuleCluster:
    """agents.cluster's functions as a Cluster object."""

    fencings = staticmethod(cluster_mod.fencings)
    nodes_with_attribute = staticmethod(cluster_mod.nodes_with_attribute)
    read_records = staticmethod(cluster_mod.read_records)
    create_record = staticmethod(cluster_mod.create_record)
    update_record = staticmethod(cluster_mod.update_record)
    delete_record = staticmethod(cluster_mod.delete_record)
