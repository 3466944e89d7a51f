"""The operator CLI's rendering of plans and capacity reports, and the exporter's samples."""

from __future__ import annotations

from host_recovery_actions.capacity import Host, Vm
from host_recovery_actions.headroom import analyse
from listener.operator import capacity, plan


def test_plan_rows_name_targets_waits_and_skips() -> None:
    shown = plan.render("c1", {
        "instances": [{"id": "1", "name": "db", "priority": 100, "tier": 0,
                       "target_host": "c2"}],
        "pending": [{"id": "2", "name": "web", "priority": 5, "tier": 1, "target_host": "c3"}],
        "waiting": [{"id": "3", "name": "batch", "priority": 0, "tier": 2,
                     "waiting_reason": "not enough capacity"}],
        "skipped": [{"id": "4", "name": "off", "reason": "recovery disabled"}],
        "capacity_plan": True})
    assert shown.splitlines()[0] == ("c1: 2 VMs would be evacuated, 1 would wait for "
                                     "capacity, 1 skipped")
    assert "waiting_for_capacity: not enough capacity" in shown and "c3" in shown


def test_capacity_report_and_gauge_samples() -> None:
    hosts = [Host("a", (64, 4096, 100), zone="az1"), Host("b", (64, 0, 100), zone="az1")]
    vms = {"a": [Vm("a1", "a1", (1, 4096, 10))], "b": [Vm("b1", "b1", (1, 2048, 10))]}
    report = analyse(hosts, vms)
    text = capacity.render(report)
    assert "N+1 NO" in text and "host a (az1): NOT absorbable: 1 of 1 VMs" in text
    found = {(n, tuple(sorted(labels.items()))): v for n, labels, v in capacity.samples(report)}
    prefix = "host_recovery_failover_capacity_"
    assert found[(prefix + "absorbable", (("host", "a"), ("zone", "az1")))] == 0.0
    assert found[(prefix + "absorbable", (("host", "b"), ("zone", "az1")))] == 1.0
    assert found[(prefix + "n_plus_1", (("name", "az1"), ("scope", "zone")))] == 0.0
    assert (prefix + "headroom", (("name", "cloud"), ("resource", "MEMORY_MB"),
                                  ("scope", "cloud"))) in found
