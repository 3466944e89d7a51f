"""setup-broker's policies (merged per pattern, conflicts reported) and the driver log filter."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import pytest
from oslo_config import cfg

from listener import log_filter
from listener.cmd.operator import build_parser
from listener.operator import setup_broker
from listener.service import prepare_service


@pytest.fixture
def conf() -> cfg.ConfigOpts:
    return prepare_service(["--config-file", "/dev/null"], default_config_files=[],
                           setup_logging=False)


def _wanted(conf: cfg.ConfigOpts, *extra: str) -> list[setup_broker.Policy]:
    args = build_parser().parse_args(["setup-broker", *extra])
    return setup_broker.desired(conf, args)


def test_one_policy_per_pattern_with_every_key(conf: cfg.ConfigOpts) -> None:
    host_down, pool, dlqs = _wanted(conf)
    assert all(re.search(host_down.pattern, f"host_recovery.{p}")
               for p in setup_broker.PRIORITIES)
    # our own application dead-letter queue is not a host-down queue
    assert not re.search(host_down.pattern, "host_recovery.dead_letter")
    assert host_down.definition == {"dead-letter-exchange": setup_broker.DLX,
                                    "dead-letter-routing-key": "host_down"}
    assert pool.definition["overflow"] == "drop-head"
    assert pool.definition["dead-letter-exchange"] == setup_broker.DLX
    assert pool.definition["message-ttl"] == 3_600_000
    # the dead-letter queues are bounded and dead-letter nothing further
    assert "dead-letter-exchange" not in dlqs.definition
    assert dlqs.definition["max-length"] == 100_000
    assert all(re.search(dlqs.pattern, q) for q in dlqs.queues)


def test_quorum_adds_the_delivery_limit(conf: cfg.ConfigOpts) -> None:
    conf.set_override("rabbit_quorum_queue", True, group="oslo_messaging_rabbit")
    host_down, pool, _ = _wanted(conf, "--delivery-limit", "7")
    assert host_down.definition["delivery-limit"] == pool.definition["delivery-limit"] == 7


def _operator(name: str, pattern: str, priority: int, **definition: Any) -> dict[str, Any]:
    return {"name": name, "pattern": pattern, "apply-to": "all", "priority": priority,
            "definition": definition}


def test_lower_operator_policy_is_merged_not_displaced(conf: cfg.ConfigOpts) -> None:
    wanted = _wanted(conf)
    existing = [_operator("ha-all", ".*", 0, **{"ha-mode": "all", "max-length": 5}),
                _operator("other", "^unrelated$", 50, **{"max-length": 1})]
    assert setup_broker.resolve(wanted, existing) == []
    pool = wanted[1]
    assert pool.definition["ha-mode"] == "all"
    assert pool.definition["max-length"] == 100_000  # ours win on the same key
    assert pool.merged == ["ha-all"]


def test_higher_operator_policy_is_reported_and_ours_not_applied(
        conf: cfg.ConfigOpts) -> None:
    wanted = _wanted(conf)
    conflicts = setup_broker.resolve(
        wanted, [_operator("nova-cap", "^host-recovery-nova$", 10, **{"max-length": 9})])
    assert len(conflicts) == 1 and "nova-cap" in conflicts[0]
    assert [p.name for p in wanted] == ["host-recovery-host-down",
                                        "host-recovery-dead-letters"]


def test_our_own_previous_policies_are_not_conflicts(conf: cfg.ConfigOpts) -> None:
    wanted = _wanted(conf)
    ours = [_operator(p.name, p.pattern, p.priority, **p.definition) for p in wanted]
    assert setup_broker.resolve(wanted, ours) == []
    assert all(not p.merged for p in wanted)


def test_filter_keeps_the_first_traceback_then_a_count_per_minute() -> None:
    now = [0.0]
    repeat = log_filter.RepeatFilter(60.0, clock=lambda: now[0])

    def record(level: int = logging.ERROR) -> logging.LogRecord:
        try:
            raise ValueError("undecodable 100%")
        except ValueError:

            return logging.LogRecord("x", level, __file__, 1, "Failed %s", ("x",),
                                     sys.exc_info())

    first = record()
    assert repeat.filter(first) and first.exc_info is not None
    assert [repeat.filter(record()) for _ in range(5)] == [False] * 5
    assert repeat.filter(record(logging.WARNING))  # lower levels untouched
    now[0] = 61.0
    summary = record()
    assert repeat.filter(summary)
    assert summary.exc_info is None
    assert summary.getMessage().startswith("6 more like this in the last 60 s")
    assert not repeat.filter(record())


def test_install_is_idempotent() -> None:
    name = "tests.log_filter.install"
    first = log_filter.install(name)
    assert log_filter.install(name) is first
    assert logging.getLogger(name).filters.count(first) == 1
