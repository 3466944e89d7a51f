"""The live view of ``host-recovery status --watch`` (issue 16), drawn with ``rich``.

Pure functions over listener/status.py's incidents, so the command (listener/operator/
status.py) only polls and prints::

    lines = changes(previous, incidents, now)            # one line per change (pipes, logs)
    screen = dashboard(incidents, recent_lines)          # redrawn in place on a terminal
    print(render_summary(summary(incidents, first_seen, failure_times)))
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from listener.status import Incident, VmRow, progress_bar
from notifications.contract import accepted_epoch

__all__ = ["changes", "dashboard", "render_summary", "summary", "vm_table"]

ENDED = ("evacuated", "failed", "skipped")


def _stamp(now: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(now))


def changes(previous: Mapping[str, Incident], incidents: list[Incident],
            now: float) -> list[str]:
    """One line per change since ``previous`` (incident id -> last view): states and VMs."""
    lines = []
    for inc in incidents:
        before = previous.get(inc.execution_id)
        where = f"incident {inc.incident_id} host {inc.host}"
        if before is None or before.state != inc.state:
            lines.append(f"{_stamp(now)} {where}: {inc.state}"
                         + (f" ({inc.reason})" if inc.reason and inc.state != "running"
                            else ""))
        old = {vm.id: vm.result for vm in (before.vms if before else [])}
        for vm in inc.vms:
            if old.get(vm.id, "pending") != vm.result and vm.result != "pending":
                ended = sum(1 for v in inc.vms if v.result in ENDED)
                # short enough for one terminal line: the incident is in its state line
                lines.append(f"{_stamp(now)} {inc.host}: {vm.name or vm.id} {vm.result}"
                             + (f" -> {vm.dest_host}" if vm.dest_host else "")
                             + (f" ({vm.reason})" if vm.reason else "")
                             + f"  {progress_bar(ended, len(inc.vms), 20)}")
    return lines


def vm_table(vms: list[VmRow], title: str | None = None) -> Table:
    """VM, original state, old -> new host, seconds, result or reason."""
    table = Table(title=title, title_justify="left", expand=False, pad_edge=False)
    for name, justify in (("VM", "left"), ("original", "left"), ("old -> new host", "left"),
                          ("s", "right"), ("result", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for vm in vms:
        table.add_row(vm.name or vm.id, vm.original_state or "-",
                      f"{vm.source_host or '-'} -> {vm.dest_host or '-'}",
                      f"{vm.seconds:.1f}" if vm.seconds is not None else "-",
                      vm.result + (f": {vm.reason}" if vm.reason else ""))
    return table


def dashboard(incidents: list[Incident], recent: list[str]) -> RenderableType:
    """Per incident: a progress bar, counts by state, the VMs in flight; then the last events."""
    parts: list[RenderableType] = []
    for inc in incidents:
        c = inc.counts
        ended = c["evacuated"] + c["failed"] + c["skipped"]
        parts.append(Text(f"incident {inc.incident_id}  host {inc.host}  "
                          f"{inc.state.upper()}", style="bold"))
        row = Table.grid(padding=(0, 2))
        row.add_row(ProgressBar(total=max(len(inc.vms), 1), completed=ended, width=40),
                    f"{ended}/{len(inc.vms)}")
        parts.append(row)
        parts.append(Text("  ".join(f"{k} {v}" for k, v in c.items())))
        flying = [vm for vm in inc.vms if vm.result == "running"]
        if flying:
            parts.append(vm_table(flying[:10], title=f"in flight ({len(flying)})"))
    parts.append(Text("last events", style="bold"))
    parts.extend(Text(line) for line in recent[-8:])
    return Group(*parts)


def summary(incidents: list[Incident], first_seen: Mapping[str, float],
            failure_times: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Per incident: detection, first evacuation, all confirmed (s), per-VM p50/max.

    ``first_seen``: execution id -> when the watch first saw a VM evacuated (epoch);
    ``failure_times``: execution id -> the host-down's failure_time.
    """
    out = []
    for inc in incidents:
        created, updated = accepted_epoch(inc.created_at), accepted_epoch(inc.updated_at)
        failed = accepted_epoch(failure_times.get(inc.execution_id))
        first = first_seen.get(inc.execution_id)
        seconds = [vm.seconds for vm in inc.vms if vm.seconds is not None]
        done = inc.state not in ("running", "held")

        def span(a: float | None, b: float | None) -> float | None:
            return round(b - a, 1) if a is not None and b is not None else None

        detection = span(failed, created)
        out.append({
            "incident_id": inc.incident_id, "host": inc.host, "state": inc.state,
            # Mistral's created_at has 1 s resolution: a sub-second detection may come out
            # slightly negative
            "detection_s": None if detection is None else max(detection, 0.0),
            "first_evacuation_s": span(created, first),
            "all_confirmed_s": span(created, updated) if done else None,
            "vm_p50_s": round(statistics.median(seconds), 1) if seconds else None,
            "vm_max_s": round(max(seconds), 1) if seconds else None,
            "counts": inc.counts})
    return out


def render_summary(rows: list[dict[str, Any]]) -> str:
    """The end of a watch, one line per incident."""
    def s(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    return "\n".join(
        f"incident {r['incident_id']} host {r['host']} {r['state'].upper()}: detection "
        f"{s(r['detection_s'])}, first evacuation {s(r['first_evacuation_s'])}, all "
        f"confirmed {s(r['all_confirmed_s'])}; per VM p50 {s(r['vm_p50_s'])} max "
        f"{s(r['vm_max_s'])}; " + ", ".join(f"{k} {v}" for k, v in r["counts"].items() if v)
        for r in rows)
