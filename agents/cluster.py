"""What Pacemaker says about failed nodes, and the incident records we keep in its CIB.

Records are cluster properties (crm_config, lifetime forever): they survive a lost node, a
resource failover and a full cluster restart, unlike transient or private node attributes.
One record per failed node, in its own property set created with ``cibadmin --create``: the
CIB refuses a second one, so the OCF scan and the alert agent agree on one incident.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from dataclasses import dataclass
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from notifications.fencing_evidence import FENCING_ACTIONS

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
    return _call(*args, check=check).stdout


def _call(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # Inside a resource action, OCF_RESKEY_CRM_meta_on_node makes attrd_updater answer
    # for the local node only (even with --all): run the CLIs without the action's meta.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_RESKEY_CRM_meta")}
    env["PATH"] = f"{SBIN_PATH}:{os.environ.get('PATH', '')}"
    proc = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False,
                          env=env)
    if check and proc.returncode != 0:
        raise ClusterError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _query_attribute(name: str) -> str:
    """attrd_updater's answer; an error is raised, never read as "no node has it"."""
    proc = _call("attrd_updater", "--query", "--all", "--name", name, check=False)
    if proc.returncode != 0:
        if "does not exist" in proc.stderr:  # no node has the attribute (exit 78)
            return ""
        raise ClusterError(f"attrd_updater failed ({proc.returncode}): "
                           f"{proc.stderr.strip()}")
    return proc.stdout


def _xml(text: str) -> ET.Element:
    # Output of Pacemaker's own CLI run as root on this node: trusted, not user input.
    return ET.fromstring(text)  # noqa: S314


@dataclass(frozen=True)
class FenceEvent:
    """One successful entry of Pacemaker's fencing history."""

    target: str
    action: str
    completed: dt.datetime
    executioner: str | None  # "delegate": the node that fenced ("a human" for --confirm)
    origin: str | None  # the node that asked for it


def parse_history(text: str) -> list[FenceEvent]:
    """Successful, completed events of ``stonith_admin --history --output-as xml``, newest
    first (the history lists newest first; completion times have one-second resolution)."""
    found: list[tuple[dt.datetime, int, FenceEvent]] = []
    for index, event in enumerate(_xml(text).iter("fence_event")):
        completed, target = event.get("completed"), event.get("target")
        if event.get("status") != "success" or not completed or not target:
            continue
        # stonith_admin prints "2025-01-15 10:30:00Z"
        when = dt.datetime.strptime(completed, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=dt.UTC)
        found.append((when, -index, FenceEvent(target, event.get("action", ""), when,
                                                event.get("delegate"), event.get("origin"))))
    return [item[2] for item in sorted(found, key=lambda i: (i[0], i[1]), reverse=True)]


def failed_by_fencing(events: list[FenceEvent]) -> dict[str, FenceEvent]:
    """Latest ``off``/``reboot`` per node, unless an unfencing (``on``) came after it.

    Storage fencing (fence_scsi, fence_mpath) unfences a node when it boots: that is the
    node coming back, never a failure, and it ends the failure the fencing began.
    """
    latest: dict[str, FenceEvent] = {}
    decided: set[str] = set()
    for event in events:  # newest first
        if event.target in decided:
            continue
        if event.action in FENCING_ACTIONS:
            latest[event.target] = event
            decided.add(event.target)
        elif event.action == "on":
            decided.add(event.target)
    return latest


def fencings(target: str = "*") -> dict[str, FenceEvent]:
    """Nodes failed by fencing (failed_by_fencing of the whole history).

    The history is the same on every cluster node, so it gives every reporter the same
    event key (``fenced@<epoch>``). ``--verbose``: without it stonith_admin shows only
    some of the events.
    """
    return failed_by_fencing(parse_history(
        _run("stonith_admin", "--history", target, "--verbose", "--output-as", "xml")))


def nodes_with_attribute(name: str, value: str) -> set[str]:
    """Nodes whose attribute ``name`` equals ``value`` (transient, private or permanent)."""
    found = {m["host"] for m in _ATTR_LINE.finditer(_query_attribute(name))
             if m["value"] == value}
    nodes = _xml(_run("cibadmin", "--query", "--scope", "nodes"))
    for node in nodes.iter("node"):
        for nvpair in node.iter("nvpair"):
            if nvpair.get("name") == name and nvpair.get("value") == value:
                found.add(node.get("uname", ""))
    return found - {""}


def _q(text: str) -> str:
    """Text for an XML attribute value."""
    return escape(text, {'"': "&quot;"})


def _set_id(prefix: str, node: str) -> str:
    return prefix + node


def read_records(prefix: str) -> dict[str, Record]:
    """Incident records by node, from the CIB's crm_config.

    Ours live in their own property set (``<prefix><node>``); records written by earlier
    versions (crm_attribute, in cib-bootstrap-options) are read too, ours win.
    """
    records: dict[str, Record] = {}
    config = _xml(_run("cibadmin", "--query", "--scope", "crm_config"))
    for nvpair in sorted(config.iter("nvpair"), key=lambda n: n.get("id", "").endswith(
            "-record")):
        name, value = nvpair.get("name", ""), nvpair.get("value", "")
        parts = value.split()
        if name.startswith(prefix) and len(parts) == 3:
            node = name[len(prefix):]
            records[node] = Record(node, parts[0], parts[1], parts[2])
    return records


def _set_xml(prefix: str, record: Record) -> str:
    set_id = _set_id(prefix, record.node)
    return (f'<cluster_property_set id="{_q(set_id)}"><nvpair id="{_q(set_id)}-record" '
            f'name="{_q(prefix + record.node)}" value="{_q(record.value())}"/>'
            "</cluster_property_set>")


def create_record(prefix: str, record: Record) -> bool:
    """Create the node's record; False if one exists (the CIB refuses a second element of
    the same id: the atomic arbiter between reporters, which crm_attribute is not)."""
    proc = _call("cibadmin", "--create", "--scope", "crm_config", "--xml-text",
                 _set_xml(prefix, record), check=False)
    if proc.returncode == 0:
        return True
    if "File exists" in proc.stderr + proc.stdout:  # exit 108
        return False
    raise ClusterError(f"cibadmin --create failed ({proc.returncode}): {proc.stderr.strip()}")


def update_record(prefix: str, record: Record) -> bool:
    """Change the state of the node's record (pending -> sent); same failure, same id.
    False if the record is gone (cib_modify refuses a missing element: exit 105, ENXIO)."""
    proc = _call("cibadmin", "--modify", "--scope", "crm_config", "--xml-text",
                 _set_xml(prefix, record), check=False)
    if proc.returncode == 0:
        return True
    if "No such device or address" in proc.stderr + proc.stdout:
        return False
    raise ClusterError(f"cibadmin --modify failed ({proc.returncode}): {proc.stderr.strip()}")


def delete_record(prefix: str, node: str) -> None:
    """Remove the node's record (and one an earlier version wrote)."""
    _run("cibadmin", "--delete", "--scope", "crm_config", "--xml-text",
         f'<cluster_property_set id="{_q(_set_id(prefix, node))}"/>')
    legacy = f'<nvpair id="cib-bootstrap-options-{_q(prefix + node)}"/>'
    _run("cibadmin", "--delete", "--scope", "crm_config", "--xml-text", legacy)
