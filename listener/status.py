"""Incidents and their VMs as Mistral holds them (the ``status`` command, the metrics, the demo).

Everything is read from Mistral (docs/design.md §3: no store of our own). An incident is an
execution of contract.RECOVER_HOST; it is *held* while its AWAIT_APPROVAL action runs;
per-VM rows come from the finished output or, while it runs, from its RECOVER_INSTANCE
sub-executions::

    incidents = collect(MistralAPI.from_conf(conf), host="compute-3")
    print(render_table(incidents))        # or json.dumps([i.as_dict() for i in incidents])
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from notifications.contract import AWAIT_APPROVAL, RECOVER_HOST, RECOVER_INSTANCE, TASK_PLAN

__all__ = ["AWAIT_APPROVAL", "RECOVER_HOST", "RECOVER_INSTANCE", "Incident", "MistralReads",
           "VmRow", "collect", "progress_bar", "render_table"]

# the workflow's report outcomes -> the five states operators see
_OUTCOMES = {"done": "done", "failed": "failed", "refused": "failed", "skipped": "skipped",
             "discarded": "skipped", "planned": "skipped"}  # planned: shadow mode


class MistralReads(Protocol):
    """What status needs from listener.mistral_api.MistralAPI (decoded JSON fields)."""

    def list_executions(self, **filters: str) -> list[dict[str, Any]]: ...

    def list_action_executions(self, name: str, state: str = "RUNNING"
                               ) -> list[dict[str, Any]]: ...


@dataclass
class VmRow:
    """One VM of an incident (the workflow's per-VM record)."""

    id: str
    name: str | None = None
    project_id: str | None = None
    original_state: str | None = None
    final_state: str | None = None
    result: str = "pending"  # evacuated | failed | skipped | running | pending
    source_host: str | None = None
    dest_host: str | None = None
    attempts: int = 0
    reason: str | None = None
    seconds: float | None = None


@dataclass
class Incident:
    """One attempt of one incident, in one of: held, running, done, failed, skipped."""

    incident_id: str
    execution_id: str
    host: str | None
    attempt: int
    state: str
    outcome: str | None = None
    reason: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    vms: list[VmRow] = field(default_factory=list)
    # soft server-group policies the recovery broke to place a VM (workflow output)
    policy_violations: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("evacuated", "failed", "skipped", "running", "pending"), 0)
        for row in self.vms:
            counts[row.result] = counts.get(row.result, 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return dict(dataclasses.asdict(self), counts=self.counts)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _row(record: dict[str, Any]) -> VmRow:
    names = {f.name for f in dataclasses.fields(VmRow)}
    row = VmRow(**{k: v for k, v in record.items() if k in names and v is not None})
    row.attempts = int(row.attempts or 0)
    return row


def _running_rows(api: MistralReads, execution_id: str) -> list[VmRow]:
    """Per-VM rows of a running incident from its per-VM sub-executions."""
    rows = []
    for sub in api.list_executions(workflow_name=RECOVER_INSTANCE, include_output="true",
                                   root_execution_id=execution_id):
        record = _dict(_dict(sub.get("output")).get("record"))
        if sub.get("state") in ("SUCCESS", "ERROR") and record.get("id"):
            rows.append(_row(record))
            continue
        vm = _dict(_dict(sub.get("input")).get("instance"))
        rows.append(VmRow(id=str(vm.get("id")), name=vm.get("name"),
                          project_id=vm.get("project_id"),
                          original_state=vm.get("original_state"), result="running",
                          source_host=_dict(sub.get("input")).get("source_host")))
    return rows


def _incident(api: MistralReads, ex: dict[str, Any], held: set[str]) -> Incident:
    inp, out = _dict(ex.get("input")), _dict(ex.get("output"))
    incident_id = str(inp.get("incident_id") or ex["id"])
    state = ex.get("state")
    if state in ("RUNNING", "IDLE", "PAUSED"):
        status = "held" if incident_id in held else "running"
    else:
        status = _OUTCOMES.get(str(out.get("outcome")), "failed" if state == "ERROR" else "done")
    incident = Incident(incident_id=incident_id, execution_id=ex["id"],
                        host=_dict(inp.get("search_opts")).get("host") or out.get("host"),
                        attempt=int(inp.get("attempt") or 1), state=status,
                        outcome=out.get("outcome"),
                        reason=out.get("reason") or ex.get("state_info"),
                        created_at=ex.get("created_at"), updated_at=ex.get("updated_at"),
                        policy_violations=[str(v) for v in out.get("policy_violations") or []])
    records = out.get("instances")
    if isinstance(records, list) and records:
        incident.vms = [_row(r) for r in records if isinstance(r, dict) and r.get("id")]
    elif status == "running":
        incident.vms = _running_rows(api, ex["id"])
        started = {row.id for row in incident.vms}
        incident.vms += [VmRow(id=str(vm.get("id")), name=vm.get("name"),
                               original_state=vm.get("original_state"),
                               source_host=incident.host)
                         for vm in _planned(api, ex["id"]) if str(vm.get("id")) not in started]
    return incident


def _planned(api: MistralReads, execution_id: str) -> list[dict[str, Any]]:
    """VMs the plan task chose (with-items creates sub-executions only as items start).

    Uses ``list_tasks(**filters)`` (decoded ``published``) when the reader has it; without
    it the rows and the progress bar cover the VMs started so far.
    """
    list_tasks = getattr(api, "list_tasks", None)
    if list_tasks is None:
        return []
    for task in list_tasks(workflow_execution_id=execution_id, name=TASK_PLAN):
        published = task.get("published")
        if isinstance(published, str):
            published = json.loads(published or "{}")
        plan = _dict(_dict(published).get("plan"))
        return [vm for vm in plan.get("instances") or [] if isinstance(vm, dict)]
    return []


def collect(api: MistralReads, host: str | None = None,
            incident: str | None = None) -> list[Incident]:
    """Incidents (every attempt), oldest first, optionally of one host or one incident."""
    held = {str(_dict(a.get("input")).get("incident_id"))
            for a in api.list_action_executions(AWAIT_APPROVAL, state="RUNNING")}
    found = []
    # Mistral leaves output out of lists unless asked
    for ex in api.list_executions(workflow_name=RECOVER_HOST, include_output="true"):
        inp = _dict(ex.get("input"))
        if host and _dict(inp.get("search_opts")).get("host") != host:
            continue
        if incident and incident not in (inp.get("incident_id"), ex.get("id")):
            continue
        found.append(_incident(api, ex, held))
    return found


def progress_bar(done: int, total: int, width: int = 30) -> str:
    """``[#########.........]  12/40`` (a running incident's VMs that ended)."""
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:>3}/{total}"


def render_table(incidents: list[Incident], bars: bool = False) -> str:
    """Human-readable: one block per incident, one line per VM."""
    if not incidents:
        return "no incidents"
    lines = []
    for inc in incidents:
        c = inc.counts
        lines.append(f"incident {inc.incident_id} host {inc.host} attempt {inc.attempt}: "
                     f"{inc.state.upper()}" + (f" ({inc.reason})" if inc.reason else ""))
        if bars and inc.state == "running":
            ended = c["evacuated"] + c["failed"] + c["skipped"]
            lines.append("  " + progress_bar(ended, len(inc.vms)) +
                         f"  evacuated {c['evacuated']} failed {c['failed']} "
                         f"skipped {c['skipped']} running {c['running']}")
        lines += [f"  policy violation: {text}" for text in inc.policy_violations]
        for vm in inc.vms:
            seconds = f"{vm.seconds:.1f}s" if vm.seconds is not None else "-"
            lines.append(
                f"  {vm.id}  {vm.name or '-':<16} {vm.result:<9} "
                f"{vm.source_host or '-'} -> {vm.dest_host or '-'}  "
                f"{vm.original_state or '-'} -> {vm.final_state or '-'}  "
                f"attempts {vm.attempts}  {seconds}" + (f"  {vm.reason}" if vm.reason else ""))
    return "\n".join(lines)
