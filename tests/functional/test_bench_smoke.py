"""``python -m bench --smoke``: the issue-13 bench end to end at tiny sizes, without Masakari.

One Stack (real RabbitMQ, Mistral, simulator, listeners) recovers a host of 4 VMs, the
fence_compute loop runs on its own simulator, and results.json carries exactly the issue's
keys with figures that hold together.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import peers, recovery

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral, pytest.mark.slow]

KEYS = {"p1_ms", "p1_first_evacuate_ms", "p2", "p3_ms", "p3_requests_per_vm", "p4", "p5",
        "machine", "git"}
P2_KEYS = {"n", "latency_s", "concurrency", "db", "ours_s", "ideal_s", "masakari_default_s",
           "masakari_tuned_s", "sequential_s"}


def test_smoke_run_writes_the_issue_keys(tmp_path: Path) -> None:
    assert recovery.main(["--smoke", "--out", str(tmp_path)]) == 0

    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == KEYS
    [row] = results["p2"]
    assert set(row) == P2_KEYS
    details = json.loads((tmp_path / "details.json").read_text())
    [info] = details["rows"]
    [run] = info["runs"]["ours"]
    # every evacuable VM is back in its original state on another host when the clock stops
    assert run["state"] == "SUCCESS"
    assert run["restored"] == run["evacuable"] == info["evacuable"] > 0
    assert row["ideal_s"] == peers.ideal(info["evacuable"], 2, 0.5)
    # the ideal is a floor for a chain that confirms each VM
    assert row["ours_s"] > row["ideal_s"]
    assert row["sequential_s"] > 0
    assert row["masakari_tuned_s"] is None and results["p4"] is None
    # the requests come from the simulator's log: at least one evacuate per VM
    assert results["p3_requests_per_vm"]["ours"] >= 1
    assert results["p3_ms"]["p50"] is not None
    assert results["p3_ms"]["p50"] <= results["p3_ms"]["p99"]
