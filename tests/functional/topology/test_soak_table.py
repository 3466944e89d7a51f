"""make soak's table and suite selection (no components started)."""

from __future__ import annotations

import pytest

from harness.fault_suites import SUITES
from harness.faults import Trial
from harness.soak import main, percentile, table


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile([], 99)) == (50, 99, 0)


def test_the_table_sums_counts_and_shows_resume_only_where_measured() -> None:
    text = table({"R1": [Trial("R1", ["a"], vms=4, lost=1, finish_s=10.0),
                         Trial("R1", ["b"], vms=4, evacuated_twice=1, finish_s=30.0)],
                  "R2": [Trial("R2", ["c"], vms=4, finish_s=3.0, resume_s=1.5, requests=60)]})
    header, r1, r2 = text.splitlines()
    assert header.split()[:5] == ["suite", "trials", "lost", "dup", "evac2x"]
    assert r1.split() == ["R1", "2", "1", "0", "1", "10.0", "30.0", "30.0", "-", "0.0"]
    assert r2.split() == ["R2", "1", "0", "0", "0", "3.0", "3.0", "3.0", "1.5", "15.0"]


def test_every_issue_suite_is_registered_and_unknown_ones_are_refused() -> None:
    assert {"R1", "R2", "R2b", "R3", "R3b", "R4", "R5", "R6"} <= set(SUITES)
    with pytest.raises(SystemExit):
        main(["--suite", "R9", "--trials", "1"])
