"""Fencing history parsing, the evidence built from it, and the scan's error counter."""

import datetime as dt

from agents import cluster
from agents.errors import ErrorCounter

HISTORY = """<pacemaker-result api-version="2.25" request="stonith_admin --history *">
  <list name="fencing history" count="6">
    <fence_event action="on" target="c-1" client="x" origin="ctl-1" status="success"
      delegate="ctl-1" completed="2026-12-01 04:26:40Z"/>
    <fence_event action="reboot" target="c-2" client="x" origin="ctl-1" status="failed"
      delegate="ctl-1" completed="2026-12-01 04:26:39Z"/>
    <fence_event action="reboot" target="c-2" client="x" origin="ctl-1" status="pending"/>
    <fence_event action="off" target="c-1" client="x" origin="ctl-2" status="success"
      delegate="ctl-3" completed="2026-12-01 04:26:30Z"/>
    <fence_event action="on" target="c-3" client="x" origin="ctl-1" status="success"
      delegate="ctl-1" completed="2026-12-01 04:26:24Z"/>
    <fence_event action="reboot" target="c-3" client="x" origin="ctl-1" status="success"
      delegate="ctl-1" completed="2026-12-01 04:26:24Z"/>
    <fence_event action="off" target="c-4" client="x" origin="ctl-2" status="success"
      delegate="a human" completed="2026-12-01 04:26:18Z"/>
  </list>
  <status code="0" message="OK"/>
</pacemaker-result>"""


def test_history_keeps_successful_events_newest_first():
    events = cluster.parse_history(HISTORY)
    assert [(e.target, e.action) for e in events] == [
        ("c-1", "on"), ("c-1", "off"), ("c-3", "on"), ("c-3", "reboot"), ("c-4", "off")]
    off = events[1]
    assert off.completed == dt.datetime(2026, 12, 1, 4, 26, 30, tzinfo=dt.UTC)
    assert (off.executioner, off.origin) == ("ctl-3", "ctl-2")


def test_only_off_and_reboot_not_followed_by_unfencing_are_failures():
    failed = cluster.failed_by_fencing(cluster.parse_history(HISTORY))
    # c-1 and c-3 were unfenced afterwards (same second: the listing order decides),
    # c-2's fencing failed: only c-4 is failed.
    assert list(failed) == ["c-4"]
    assert failed["c-4"].executioner == "a human"


def test_unfencing_alone_is_no_failure():
    only_on = HISTORY.replace('action="off"', 'action="on"').replace(
        'action="reboot"', 'action="on"')
    assert cluster.failed_by_fencing(cluster.parse_history(only_on)) == {}


def test_error_counter_counts_in_a_row_and_resets(tmp_path):
    counter = ErrorCounter(tmp_path / "sub" / "hr.errors")
    assert counter.count() == 0
    assert [counter.failed(), counter.failed()] == [1, 2]
    assert ErrorCounter(counter.path).count() == 2  # survives the process (next monitor)
    counter.succeeded()
    assert counter.count() == 0
    counter.succeeded()  # no file: still fine
    counter.path.write_text("garbage")
    assert counter.failed() == 1
