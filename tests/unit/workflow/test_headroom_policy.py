"""``host-recovery capacity`` plans each host's loss as its recovery would: on its host
policy's target hosts, and with the reserved hosts the recovery could enable
(headroom.Targets, failover.targets_by_host)."""

from __future__ import annotations

from pathlib import Path

from host_recovery_actions import config, failover
from host_recovery_actions.capacity import Host, Vm
from host_recovery_actions.headroom import Targets, analyse
from listener.operator import capacity as capacity_cli

GB = 1024.0


def _vms(host: str, count: int, ram: float = 4 * GB) -> list[Vm]:
    return [Vm(id=f"{host}-{i}", name=f"{host}-{i}", demand=(1.0, ram, 10.0))
            for i in range(count)]


def _hosts(spare_why: str | None = "disabled") -> list[Host]:
    """c1 (4 VMs of 4 GB), c2 with room for 2 of them, the reserved r1 with room for all."""
    return [Host("c1", (64.0, 0.0, 1000.0)), Host("c2", (64.0, 8 * GB, 1000.0)),
            Host("r1", (64.0, 64 * GB, 1000.0), usable=spare_why is None, why_not=spare_why)]


def test_a_loss_absorbed_only_with_its_reserved_host_names_it() -> None:
    vms = {"c1": _vms("c1", 4)}
    without = analyse(_hosts(), vms)["hosts"]["c1"]
    assert not without["absorbable"] and without["not_placed"] == 2
    assert without["reserved_needed"] == []
    report = analyse(_hosts(), vms, targets={"c1": Targets(None, ["r1"])})
    entry = report["hosts"]["c1"]
    assert entry["absorbable"] and entry["reserved_needed"] == ["r1"]
    assert report["cloud"]["n_plus_1"]
    # a reserved host is disabled: not free capacity of the cloud
    assert report["cloud"]["free"][1] == 8 * GB
    text = capacity_cli.render(report)
    assert "host c1 (nova): absorbable, with reserved hosts enabled: r1" in text
    assert ("host_recovery_failover_capacity_reserved_needed", {"host": "c1"}, 1.0) in \
        capacity_cli.samples(report)


def test_a_reserved_host_the_recovery_may_not_enable_does_not_count() -> None:
    for why in ("down", "no resource provider"):
        report = analyse(_hosts(spare_why=why), {"c1": _vms("c1", 4)},
                         targets={"c1": Targets(None, ["r1"])})
        assert not report["hosts"]["c1"]["absorbable"], why
        assert report["hosts"]["c1"]["reserved_needed"] == []


def test_a_reserved_host_not_needed_is_not_listed() -> None:
    report = analyse(_hosts(), {"c1": _vms("c1", 2)}, targets={"c1": Targets(None, ["r1"])})
    assert report["hosts"]["c1"]["absorbable"]
    assert report["hosts"]["c1"]["reserved_needed"] == []
    assert "host c1" not in capacity_cli.render(report)


def test_target_hosts_limit_where_the_loss_goes() -> None:
    hosts = [Host("c1", (64.0, 0.0, 1000.0)), Host("c2", (64.0, 4 * GB, 1000.0)),
             Host("c3", (64.0, 64 * GB, 1000.0))]
    vms = {"c1": _vms("c1", 2)}
    assert analyse(hosts, vms)["hosts"]["c1"]["absorbable"]
    limited = analyse(hosts, vms, targets={"c1": Targets(["c2"], [])})["hosts"]["c1"]
    assert not limited["absorbable"] and limited["not_placed"] == 1


def test_targets_come_from_the_policy_file_then_aggregate_metadata(tmp_path: Path) -> None:
    rules = tmp_path / "hp.yaml"
    rules.write_text("hosts:\n  - match: c1\n    reserved_hosts: [r1, c1]\n"
                     "    target_hosts: [c2]\n")
    conf_file = tmp_path / "actions.conf"
    conf_file.write_text(f"[policy]\nhost_policy_file = {rules}\n")
    aggregates = [{"id": 1, "name": "spares", "hosts": ["r2"], "metadata": {}},
                  {"id": 2, "name": "db", "hosts": ["c3"], "metadata": {
                      "host_recovery:reserved_aggregate": "spares"}}]
    found = failover.targets_by_host(["c1", "c2", "c3"], config.load(str(conf_file)),
                                     aggregates)
    assert found["c1"] == Targets(["c2"], ["r1"])  # never its own spare
    assert "c2" not in found  # no policy: any host, no reserved hosts
    assert found["c3"] == Targets(None, ["r2"])
