"""What Pacemaker says about failed nodes, and the incident records we keep in its CIB.

Records are cluster properties (crm_config, lifetime forever): they survive a lost node, a
resource failover and a full cluster restart, unlike transient or private node attributes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from dataclasses import dataclass
from xml.etree import ElementTree as ET

SBIN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_ATTR_LINE = re.compile(r'name="[^"]*" host="(?P<host>[^"]*)" value="(?P<value>[^"]*)"')


class ClusterError(RuntimeError):
    """A Pacemaker command failed."""


@dataclass(frozen=True)
class Record:
    """One node's incident: ``state`` is "pending" or "sent"."""

    node: str
    state: str
    event_key: str
    incident_id: str

    def value(self) -> str:
        return f"{self.state} {self.event_key} {self.incident_id}"


def _run(*args: str, check: bool = True) -> str:
    # Inside a resource action, OCF_RESKEY_CRM_meta_on_node makes attrd_updater answer
    # for the local node only (even with --all): run the CLIs without the action's meta.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_RESKEY_CRM_meta")}
    env["PATH"] = f"{SBIN_PATH}:{os.environ.get('PATH', '')}"
    proc = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False,
                          env=env)
    if check and proc.returncode != 0:
        raise ClusterError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _xml(text: str) -> ET.Element:
    # Output of Pacemaker's own CLI run as root on this node: trusted, not user input.
    return ET.fromstring(text)  # noqa: S314


def _parse_completed(text: str) -> dt.datetime:
    # stonith_admin prints "2025-01-15 10:30:00Z"
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=dt.UTC)


def fencings(target: str = "*") -> dict[str, dt.datetime]:
    """Latest successful fencing completion per node, from the fencing history.

    The history is the same on every cluster node, so it gives every reporter the same
    event key (``fenced@<epoch>``).
    """
    xml = _run("stonith_admin", "--history", target, "--output-as", "xml")
    latest: dict[str, dt.datetime] = {}
    for event in _xml(xml).iter("fence_event"):
        if event.get("status") != "success" or not event.get("completed"):
            continue
        node, when = event.get("target", ""), _parse_completed(event.get("completed", ""))
        if node and (node not in latest or when > latest[node]):
            latest[node] = when
    return latest


def nodes_with_attribute(name: str, value: str) -> set[str]:
    """Nodes whose attribute ``name`` equals ``value`` (transient, private or permanent)."""
    found = {m["host"] for m in _ATTR_LINE.finditer(
        _run("attrd_updater", "--query", "--all", "--name", name, check=False))
        if m["value"] == value}
    nodes = _xml(_run("cibadmin", "--query", "--scope", "nodes"))
    for node in nodes.iter("node"):
        for nvpair in node.iter("nvpair"):
            if nvpair.get("name") == name and nvpair.get("value") == value:
                found.add(node.get("uname", ""))
    return found - {""}


def read_records(prefix: str) -> dict[str, Record]:
    """Incident records by node, from the CIB's crm_config."""
    records: dict[str, Record] = {}
    config = _xml(_run("cibadmin", "--query", "--scope", "crm_config"))
    for nvpair in config.iter("nvpair"):
        name, value = nvpair.get("name", ""), nvpair.get("value", "")
        parts = value.split()
        if name.startswith(prefix) and len(parts) == 3:
            node = name[len(prefix):]
            records[node] = Record(node, parts[0], parts[1], parts[2])
    return records


def write_record(prefix: str, record: Record) -> None:
    """Store a record in the CIB, replacing the node's old one.

    crm_config properties are permanent (what ``-l forever`` means); adding ``--lifetime``
    would make crm_attribute write a node attribute of the local node instead.
    """
    _run("crm_attribute", "--type", "crm_config", "--name", prefix + record.node,
         "--update", record.value())


def delete_record(prefix: str, node: str) -> None:
    _run("crm_attribute", "--type", "crm_config", "--name", prefix + node, "--delete")
