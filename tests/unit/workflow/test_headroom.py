"""``host-recovery capacity``'s analysis (host_recovery_actions.headroom): N+1 per host,
zone and aggregate, checked against a brute-force search on small clouds; the planner's
round split (placing.split) and the tier readiness rule (rounds.ready)."""

from __future__ import annotations

import random

from host_recovery_actions import placing, rounds
from host_recovery_actions.capacity import Group, Host, Vm
from host_recovery_actions.headroom import analyse
from tests.unit.workflow.test_capacity import _brute_force


def _cloud(rng: random.Random) -> tuple[list[Host], dict[str, list[Vm]]]:
    hosts = [Host(name=f"h{i}", free=(rng.choice([2, 4, 8]), rng.choice([0, 2048, 4096, 8192]),
                                      100), zone=rng.choice(["az1", "az2"]),
                  usable=rng.random() > 0.1) for i in range(rng.randint(2, 4))]
    vms = {h.name: [Vm(id=f"{h.name}v{j}", name=f"{h.name}v{j}",
                       demand=(rng.choice([1, 2]), rng.choice([1024, 2048, 4096]), 10),
                       zone=rng.choice([None, h.zone]))
                    for j in range(rng.randint(0, 3))] for h in hosts}
    return hosts, vms


def test_n_plus_1_per_host_matches_brute_force_on_small_clouds() -> None:
    rng = random.Random(1414)
    checked = 0
    for _ in range(200):
        hosts, vms = _cloud(rng)
        report = analyse(hosts, vms)
        for host in hosts:
            if not host.usable:
                assert host.name not in report["hosts"]
                continue
            others = [h for h in hosts if h.name != host.name]
            expected = _brute_force(vms[host.name], others) if vms[host.name] else True
            assert report["hosts"][host.name]["absorbable"] == expected, (host, vms)
            checked += 1
        usable = list(report["hosts"])
        assert report["cloud"]["n_plus_1"] == (
            bool(usable) and all(report["hosts"][n]["absorbable"] for n in usable))
    assert checked > 300


def test_largest_absorbable_loss_zone_and_aggregate() -> None:
    hosts = [Host("a", (64, 8192, 100), zone="az1"), Host("b", (64, 4096, 100), zone="az1"),
             Host("c", (64, 0, 100), zone="az2")]
    big = [Vm(id=f"c{i}", name=f"c{i}", demand=(1, 4096, 10), zone="az2") for i in range(2)]
    vms = {"a": [Vm("a1", "a1", (1, 4096, 10))], "b": [Vm("b1", "b1", (1, 2048, 10))],
           "c": big}
    report = analyse(hosts, vms, aggregates={"rack1": ["a", "b"]})
    assert report["hosts"]["c"]["absorbable"] is False  # pinned to az2, alone there
    assert "availability zone az2" in report["hosts"]["c"]["reason"]
    assert report["zones"]["az1"]["n_plus_1"] and not report["zones"]["az2"]["n_plus_1"]
    assert report["aggregates"]["rack1"]["largest_absorbable"] == "a"
    assert report["cloud"]["not_absorbable"] == ["c"]
    # az1's worst loss is a: its 4096 MB of VMs and its own 8192 MB free are gone
    assert report["zones"]["az1"]["headroom"][1] == 8192 + 4096 - 4096 - 8192


def test_anti_affinity_members_elsewhere_count() -> None:
    hosts = [Host("a", (64, 9999, 100)), Host("b", (64, 9999, 100))]
    vms = {"a": [Vm("m1", "m1", (1, 1, 1), group="g")], "b": [Vm("m2", "m2", (1, 1, 1))]}
    report = analyse(hosts, vms, {"g": Group("g", "anti-affinity")}, {"m1": "g", "m2": "g"})
    assert report["hosts"]["a"]["absorbable"] is False


def test_a_round_runs_the_top_tier_and_parks_what_does_not_fit() -> None:
    items = [{"id": "1", "name": "x", "priority": 100, "tier": 0},
             {"id": "2", "name": "y", "priority": 5, "tier": 1},
             {"id": "3", "name": "z", "priority": 5, "tier": 1}]
    placed: tuple[dict[str, str], dict[str, str], list[str]] = (
        {"1": "h1", "2": "h2"}, {"3": "not enough capacity"}, [])
    ordered = placing.split(items, placed, ordered_tiers=True)
    assert [i["id"] for i in ordered["instances"]] == ["1"]
    assert [i["id"] for i in ordered["pending"]] == ["2"]
    assert ordered["waiting"][0]["waiting_reason"] == "not enough capacity"
    together = placing.split(items, placed, ordered_tiers=False)
    assert [i["target_host"] for i in together["instances"]] == ["h1", "h2"]
    blind = placing.split(items, None, ordered_tiers=True, fallback=["t1", "t2"])
    assert [i["target_host"] for i in blind["instances"]] == ["t1", "t2", "t1"]


def test_ready_means_the_expected_state_and_running() -> None:
    up = {"OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": None,
          "OS-EXT-STS:power_state": 1, "metadata": {"host_recovery:restart_delay": "7"}}
    assert rounds.ready(up, "active")
    assert not rounds.ready(dict(up, **{"OS-EXT-STS:power_state": 4}), "active")
    assert not rounds.ready(dict(up, **{"OS-EXT-STS:task_state": "powering-on"}), "active")
    assert rounds.ready(dict(up, **{"OS-EXT-STS:vm_state": "stopped",
                                    "OS-EXT-STS:power_state": 4}), "stopped")
    assert rounds.delay_of(up, "host_recovery:restart_delay") == 7.0
    assert rounds.delay_of({"metadata": {"host_recovery:restart_delay": "x"}}, "k") == 0.0
