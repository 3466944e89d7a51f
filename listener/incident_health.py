"""Unfinished incidents' age and progress, read from Mistral (health command and metrics).

    report = incident_health.assess(api, stuck_after=1800, now=now, idle_task_after=120)
    report.oldest_age          # seconds since the oldest unfinished incident began (0: none)
    report.stuck               # [Stalled(incident, execution, idle_for, detail)], e.g. IDLE
                               # tasks after an engine crash

An incident is *stuck* when nothing in it (its execution, its tasks, its sub-workflows) has
changed for ``stuck_after`` seconds. An incident deliberately waiting is not: held for
approval, or in ``await_capacity`` (the engine re-reads capacity every poll). Set
``stuck_after`` above the evacuation wait timeout: a VM waiting for Nova changes nothing
until its event comes. ``host-recovery rerun --force`` resumes a stuck incident.

It is stuck sooner, after ``idle_task_after``, when one of its running workflows holds a task
still IDLE (created, never started): Mistral 23 loses a task's start when its engine dies or
its database restarts at that moment, and nothing starts it again; a task normally leaves
IDLE within seconds, whatever the rest of the incident is waiting for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from listener import status

__all__ = ["WAITING_TASKS", "Assessment", "Stalled", "assess"]

# tasks in which an incident waits on purpose (docs/workflow.md)
WAITING_TASKS = frozenset({"await_approval", "await_capacity"})
_ACTIVE = ("RUNNING", "RUNNING_DELAYED", "WAITING")


class Reads(Protocol):
    """What assess needs from listener.mistral_api.MistralAPI."""

    def list_executions(self, fields: Any = None, limit: Any = None,
                        **filters: str) -> list[dict[str, Any]]: ...

    def list_action_executions(self, name: str, state: str = "RUNNING"
                               ) -> list[dict[str, Any]]: ...

    def list_tasks(self, fields: Any = None, **filters: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Stalled:
    """An unfinished incident without progress."""

    incident_id: str
    execution_id: str
    idle_for: float
    detail: str


@dataclass
class Assessment:
    """What the health check and the metrics report about unfinished incidents."""

    unfinished: int = 0
    oldest_age: float = 0.0
    oldest_incident: str | None = None
    stuck: list[Stalled] = field(default_factory=list)


def _time(value: Any) -> dt.datetime | None:
    """Mistral's 'YYYY-MM-DD HH:MM:SS' (UTC, no offset) or ISO 8601."""
    if not value:
        return None
    when = dt.datetime.fromisoformat(str(value).replace(" ", "T"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _latest(rows: Iterable[dict[str, Any]]) -> dt.datetime | None:
    times = [t for r in rows for t in (_time(r.get("updated_at")), _time(r.get("created_at")))
             if t is not None]
    return max(times, default=None)


def _lost_start(incident: status.Incident, subs: list[dict[str, Any]],
                idle_tasks: list[dict[str, Any]], idle_task_after: float,
                now: dt.datetime) -> Stalled | None:
    """The incident's tasks IDLE for over ``idle_task_after`` in a workflow still running."""
    running = {incident.execution_id} | {
        str(s.get("id")) for s in subs if s.get("state") in _ACTIVE}
    ages = [((now - since).total_seconds(), str(task.get("name"))) for task in idle_tasks
            if task.get("state") == "IDLE" and task.get("workflow_execution_id") in running
            and (since := _latest([task])) is not None]
    lost = [(age, name) for age, name in ages if age >= idle_task_after]
    if not lost:
        return None
    names = ", ".join(sorted({name for _, name in lost}))
    return Stalled(incident.incident_id, incident.execution_id, max(lost)[0],
                   f"task(s) {names} IDLE, never started (Mistral lost the start: "
                   "engine crash or database restart)")


def _stalled(api: Reads, incident: status.Incident, stuck_after: float,
             now: dt.datetime, idle_tasks: list[dict[str, Any]] | None = None,
             idle_task_after: float | None = None) -> Stalled | None:
    execution_id = incident.execution_id
    tasks = api.list_tasks(fields=["name", "state", "created_at", "updated_at"],
                           workflow_execution_id=execution_id)
    waiting = any(t.get("name") in WAITING_TASKS and t.get("state") in _ACTIVE for t in tasks)
    if waiting and not idle_tasks:
        return None  # the common case: no lost start anywhere, no sub-workflows to read
    subs = api.list_executions(fields=["state", "created_at", "updated_at"],
                               root_execution_id=execution_id)
    if idle_tasks and idle_task_after is not None:
        lost = _lost_start(incident, subs, idle_tasks, idle_task_after, now)
        if lost is not None:
            return lost
    if waiting:
        return None
    latest = _latest([*tasks, *subs, {"created_at": incident.created_at,
                                      "updated_at": incident.updated_at}])
    idle_for = (now - latest).total_seconds() if latest else 0.0
    if idle_for < stuck_after:
        return None
    idle = sorted(str(t.get("name")) for t in tasks if t.get("state") == "IDLE")
    detail = (f"task(s) {', '.join(idle)} IDLE" if idle
              else f"{sum(t.get('state') in _ACTIVE for t in tasks)} task(s) running")
    return Stalled(incident.incident_id, execution_id, idle_for, detail)


def assess(api: Reads, stuck_after: float, now: dt.datetime | None = None,
           incidents: list[status.Incident] | None = None,
           idle_task_after: float | None = None) -> Assessment:
    """Age of the oldest unfinished incident and the stuck ones (running, not waiting).

    ``idle_task_after`` (None: not checked) also makes stuck a running incident holding a
    task IDLE that long (one read of every IDLE task, whatever the number of incidents).
    """
    now = now or dt.datetime.now(dt.UTC)
    if incidents is None:
        incidents = status.collect(api)
    result = Assessment()
    idle_tasks: list[dict[str, Any]] = []
    if idle_task_after is not None and any(i.state == "running" for i in incidents):
        idle_tasks = api.list_tasks(
            fields=["name", "state", "workflow_execution_id", "created_at", "updated_at"],
            state="IDLE")
    for incident in incidents:
        if incident.state not in ("running", "held"):
            continue
        result.unfinished += 1
        began = _time(incident.created_at)
        age = (now - began).total_seconds() if began else 0.0
        if age > result.oldest_age:
            result.oldest_age, result.oldest_incident = age, incident.incident_id
        if incident.state == "running":
            stalled = _stalled(api, incident, stuck_after, now, idle_tasks, idle_task_after)
            if stalled is not None:
                result.stuck.append(stalled)
    return result
