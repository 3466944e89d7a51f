"""The live view's pieces (issue 16): change lines, the summary's timings, the dashboard."""

from __future__ import annotations

import io

from rich.console import Console

from listener.operator import live
from listener.status import Incident, VmRow


def _incident(state: str, *results: str, updated: str = "2026-01-01T00:00:20") -> Incident:
    vms = [VmRow(id=f"v{n}", original_state="active", result=r, source_host="c1",
                 dest_host="c2" if r == "evacuated" else None, seconds=float(n + 1)
                 if r in live.ENDED else None) for n, r in enumerate(results)]
    return Incident(incident_id="i1", execution_id="e1", host="c1", attempt=1, state=state,
                    created_at="2026-01-01T00:00:00", updated_at=updated, vms=vms)


def test_changes_are_one_line_each_and_nothing_when_nothing_changed() -> None:
    before = _incident("running", "running", "pending")
    after = _incident("running", "evacuated", "running")
    lines = live.changes({"e1": before}, [after], 0.0)
    assert len(lines) == 2
    assert "c1: v0 evacuated -> c2" in lines[0] and "1/2" in lines[0]
    assert "c1: v1 running" in lines[1]
    assert live.changes({"e1": after}, [after], 0.0) == []
    assert "incident i1 host c1: running" in live.changes({}, [before], 0.0)[0]


def test_summary_times_and_percentiles() -> None:
    done = _incident("done", "evacuated", "evacuated", "failed")
    rows = live.summary([done], {"e1": done_epoch("2026-01-01T00:00:04")},
                        {"e1": "2025-12-31T23:59:57Z"})
    row = rows[0]
    assert (row["detection_s"], row["first_evacuation_s"], row["all_confirmed_s"]) == (
        3.0, 4.0, 20.0)
    assert (row["vm_p50_s"], row["vm_max_s"]) == (2.0, 3.0)
    text = live.render_summary(rows)
    assert "detection 3.0 s" in text and "evacuated 2, failed 1" in text
    running = live.summary([_incident("running", "running")], {}, {})[0]
    assert running["all_confirmed_s"] is None and running["vm_p50_s"] is None


def done_epoch(text: str) -> float:
    value = live.accepted_epoch(text)
    assert value is not None
    return value


def test_dashboard_shows_bar_counts_vms_in_flight_and_events() -> None:
    out = io.StringIO()
    Console(file=out, width=100).print(live.dashboard(
        [_incident("running", "evacuated", "running", "pending")], ["12:00:00 an event"]))
    text = out.getvalue()
    assert "1/3" in text and "evacuated 1" in text and "in flight (1)" in text
    assert "v1" in text and "12:00:00 an event" in text
