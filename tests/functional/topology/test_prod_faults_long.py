"""The long fault suites (R2, R2b, R3b, R4, R5, R6 of harness.fault_suites), one trial each
on one production topology. About 12 minutes on 2 cores, so not in ``make test``: run with
``HOST_RECOVERY_LONG_FAULTS=1 pytest tests/functional/topology/test_prod_faults_long.py``;
``make soak`` repeats the same trials and prints the table.
"""

from __future__ import annotations

import os

import pytest

from harness.fault_suites import SUITES
from harness.faults import FaultRunner
from harness.topology import ProdTopology

pytestmark = [
    pytest.mark.rabbit, pytest.mark.mistral, pytest.mark.slow, pytest.mark.prod,
    pytest.mark.skipif(not os.environ.get("HOST_RECOVERY_LONG_FAULTS"),
                       reason="long fault suites: set HOST_RECOVERY_LONG_FAULTS=1 (or make soak)"),
]
LONG = ("R2", "R2b", "R3b", "R4", "R5", "R6")
PROD_HOSTS = sum(SUITES[name][0] for name in LONG) + 3


@pytest.fixture(scope="module")
def faults(prod_topology: ProdTopology) -> FaultRunner:
    return FaultRunner(prod_topology, bound=300.0)


@pytest.mark.parametrize("suite", LONG)
def test_the_recovery_ends_clean_through_the_fault(faults: FaultRunner, suite: str) -> None:
    trial = SUITES[suite][1](faults, 0)
    assert trial.vms > 0
    assert (trial.lost, trial.duplicated, trial.evacuated_twice) == (0, 0, 0), trial.notes
    if suite == "R4":  # bounded: a few requests per VM, never a retry storm
        assert trial.requests <= 40 * trial.vms, trial.requests
