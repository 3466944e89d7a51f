"""Fault tests on the production topology (PostgreSQL, 3 RabbitMQ nodes with quorum queues,
2 engines + 2 executors + API + notifier as processes, 3 listeners), one trial each.

All tests of this module share one topology start (module-scoped fixture); ``make soak``
repeats the same trials (harness.faults) many times and prints the table.
"""

from __future__ import annotations

import pytest

from harness.faults import FaultRunner
from harness.topology import ProdTopology

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral, pytest.mark.slow, pytest.mark.prod]


@pytest.fixture(scope="module")
def faults(prod_topology: ProdTopology) -> FaultRunner:
    return FaultRunner(prod_topology, bound=180.0)


def test_the_topology_is_what_production_runs(prod_topology: ProdTopology) -> None:
    cluster = prod_topology.cluster
    status = cluster.nodes[0].ctl("cluster_status").stdout
    assert all(name in status for name in cluster.node_names)
    assert prod_topology.mistral_cluster is not None
    assert len(prod_topology.mistral_cluster.pids()) == 6
    assert len([lst for lst in prod_topology.listeners if lst.alive()]) == 3
    # the host-down queue is a quorum queue (declared by oslo, mirrored by the agent)
    queues = cluster.nodes[0].ctl("list_queues", "-p", "cloud", "name", "type").stdout
    assert any(line.split() == ["host_recovery.info", "quorum"]
               for line in queues.splitlines()), queues


def test_r1_listener_killed_while_starting_and_confirming(faults: FaultRunner) -> None:
    trial = faults.r1_listener_kill()
    assert trial.vms > 0
    assert (trial.lost, trial.duplicated, trial.evacuated_twice) == (0, 0, 0), trial.notes


def test_r3_engine_and_executor_killed_mid_recovery(faults: FaultRunner) -> None:
    trial = faults.r3_engine_executor_kill()
    assert trial.vms > 0
    assert (trial.lost, trial.duplicated, trial.evacuated_twice) == (0, 0, 0), trial.notes
