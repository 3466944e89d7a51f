"""The harness's RabbitMQ cluster restart: a node that fails to boot is started again, said."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.process import ComponentError
from harness.rabbit_cluster import RabbitCluster, together_failed


class FakeNode:
    def __init__(self, boot_failures: int = 0) -> None:
        self.boot_failures = boot_failures
        self.starts = self.stops = 0

    def start(self) -> None:
        self.starts += 1
        if self.starts <= self.boot_failures:
            raise ComponentError("RabbitMQ on port 1: the process exited before it was ready\n"
                                 "Error during startup: {error, {incompatible_feature_flags,")

    def stop(self) -> None:
        self.stops += 1


def test_together_failed_names_each_call_that_raised() -> None:
    def boom() -> None:
        raise ValueError("x")

    failed = together_failed([lambda: None, boom, lambda: None, boom])
    assert [index for index, _ in failed] == [1, 3]


def test_a_node_that_fails_to_boot_is_started_again_and_the_restart_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = RabbitCluster(tmp_path)
    nodes = [FakeNode(), FakeNode(), FakeNode(boot_failures=1)]
    monkeypatch.setattr(cluster, "nodes", nodes)
    monkeypatch.setattr(cluster, "_check_members", lambda: None)
    notes = cluster.restart()
    assert notes == ["node3 failed to boot (incompatible_feature_flags); started again"]
    assert [n.starts for n in nodes] == [1, 1, 2] and [n.stops for n in nodes] == [1, 1, 1]
    nodes[2].boot_failures = nodes[2].starts + 2  # twice in a row: the restart fails
    with pytest.raises(ComponentError):
        cluster.restart()
