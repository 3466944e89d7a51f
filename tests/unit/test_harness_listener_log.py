"""The harness's listener log reads: the whole log, or only what was logged since a size."""

from __future__ import annotations

from pathlib import Path

from harness.listener import ListenerProcess


def test_lines_since_a_size_read_only_what_came_after(tmp_path: Path) -> None:
    listener = ListenerProcess(tmp_path, "controller-1", "rabbit://x", "http://mistral")
    assert listener.size() == 0 and listener.lines("accepted") == []
    listener.log.write_text("03:00:00.001 Recovery accepted for incident a\n")
    mark = listener.size()
    with listener.log.open("a") as log:
        log.write("03:00:01.002 Recovery accepted for incident b\n")
    assert len(listener.lines("accepted")) == 2
    assert listener.lines("accepted", since=mark) == [
        "03:00:01.002 Recovery accepted for incident b"]
    assert listener.text(since=listener.size()) == ""
