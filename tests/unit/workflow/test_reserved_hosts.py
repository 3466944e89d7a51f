"""Reserved hosts (Masakari's ``reserved_host``): read like every host-policy field, enabled
one at a time by the plan and by later rounds for VMs that fit nowhere else (only up, not
forced down, in the VMs' zone, only as many as needed), never by shadow mode or a preview,
idempotent on a re-run; the Nova facade's call and the operator CLI's lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from host_recovery_actions import host_policy, placing, policy, reserved
from host_recovery_actions.capacity import Host, Vm
from host_recovery_actions.nova import NovaError, NovaFacade
from host_recovery_actions.plan import PlanAction
from host_recovery_actions.rounds import NextRoundAction
from listener.operator import plan as plan_cli
from tests.unit.workflow.fakes import FakeNova, server

CTX = SimpleNamespace(execution=SimpleNamespace(
    workflow_execution_id="wf-1", task_execution_id="t-1", action_execution_id="a-1"))
GIB4 = {"extra_specs": {}, "vcpus": 1, "ram": 4096, "disk": 10}
FENCED = {"fenced": True}  # the fence step's output: only a fenced incident changes Nova


def _service(host: str, state: str = "up", status: str = "enabled",
             forced_down: bool = False) -> dict[str, Any]:
    return {"id": f"u-{host}", "host": host, "state": state, "status": status,
            "forced_down": forced_down, "updated_at": "2024-01-01T10:00:00.000000"}


class ReservingNova(FakeNova):
    """FakeNova with ``enable_service`` (PUT /os-services/{id} status enabled)."""

    def enable_service(self, service: dict[str, Any]) -> None:
        self.calls.append(("enable_service", service["host"]))
        for found in self.services:
            if found["host"] == service["host"]:
                found["status"] = "enabled"


def _cloud(reserved_services: list[dict[str, Any]], vms: int = 3) -> ReservingNova:
    """c1 failed with ``vms`` VMs of 4 GiB; c2 is enabled with room for one."""
    servers = [dict(server(f"v{i}", name=f"v{i}"), flavor=dict(GIB4)) for i in range(vms)]
    services = [_service("c1", state="down"), _service("c2"), *reserved_services]
    return ReservingNova(servers, services=services)


@pytest.fixture
def placement(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Placement as the plan reads it: ``free`` per host (a disabled host is listed too, as
    allocation candidates without the COMPUTE_STATUS_DISABLED filter list it), ``pinned``
    server id -> zone."""
    state: dict[str, Any] = {"free": {"c1": (0.0, 0.0, 0.0), "c2": (8.0, 4096.0, 100.0)},
                             "pinned": {}}

    class FakePlacement:
        @classmethod
        def from_nova(cls, nova: Any, conf: Any) -> FakePlacement:
            return cls()

        def free(self) -> dict[str, tuple[float, float, float]]:
            return dict(state["free"])

        def server_groups(self) -> list[dict[str, Any]]:
            return []

        def servers(self, host: str | None = None) -> list[dict[str, Any]]:
            return [{"id": k, "pinned_availability_zone": v} for k, v in state["pinned"].items()]

    monkeypatch.setattr(placing, "PlacementClient", FakePlacement)
    return state


def _policy_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "hp.yaml"
    path.write_text("hosts:\n  - match: c1\n" + text)
    return f"[policy]\nhost_policy_file = {path}\n"


def _with_r1(use: Any, tmp_path: Path, placement: dict[str, Any], rule: str = "",
             ram: float = 16384.0, conf: str = "", **r1: Any) -> ReservingNova:
    """The cloud of ``_cloud`` with one reserved host r1 (disabled, ``ram`` MB free; ``r1``
    overrides its service) named by c1's policy (plus ``rule``), installed."""
    placement["free"]["r1"] = (64.0, ram, 1000.0)
    nova = _cloud([_service("r1", **{"status": "disabled", **r1})])
    use(nova, conf=_policy_file(tmp_path, "    reserved_hosts: [r1]\n" + rule) + conf)
    return nova


# -- policy ---------------------------------------------------------------------------------
def test_reserved_fields_are_read_and_validated_like_the_target_fields(tmp_path: Path) -> None:
    assert policy.coerce("reserved_hosts", "r1, r2,") == (["r1", "r2"], None)
    assert policy.coerce("reserved_hosts", ["r1"]) == (["r1"], None)
    assert policy.coerce("reserved_hosts", 5) == (None, "is not a list of host names")
    assert policy.coerce("reserved_aggregate", " spares ") == ("spares", None)
    rules = [{"match": "c1", "reserved_hosts": {"bad": 1}}]
    aggregates = [{"id": 1, "name": "ha", "hosts": ["c1"],
                   "metadata": {"host_recovery:reserved_hosts": "r1,r2",
                                "host_recovery:reserved_aggregate": "spares"}}]
    hp = policy.resolve_host_policy("c1", rules, aggregates)
    # the rule's bad value is a warning, never an abort: the aggregate decides
    assert (hp.reserved_hosts, hp.sources["reserved_hosts"]) == (["r1", "r2"], "aggregate:ha")
    assert hp.reserved_aggregate == "spares"
    assert any("reserved_hosts={'bad': 1} is not a list" in w for w in hp.warnings)
    assert hp.as_dict()["reserved_hosts"] == ["r1", "r2"]
    ruled = policy.resolve_host_policy("c1", [{"match": "c1", "reserved_hosts": ["r9"]}],
                                       aggregates)
    assert ruled.reserved_hosts == ["r9"] and ruled.sources["reserved_hosts"] == "host-policy:c1"
    assert reserved.names(policy.HostPolicy(reserved_aggregate="spares"), [
        {"name": "spares", "hosts": ["r3", "r4"]}]) == ["r3", "r4"]
    assert reserved.names(policy.HostPolicy(), []) == []
    path = tmp_path / "hp.yaml"
    path.write_text("hosts:\n  - match: c1\n    reserved_hosts: 7\n")
    assert host_policy.check(str(path)) == [
        f"host policy file {path}: rule 'c1': reserved_hosts=7 is not a list of host names"]


# -- the choice -----------------------------------------------------------------------------
def _model(hosts: list[Host], services: list[dict[str, Any]], vms: list[Vm]) -> placing.Model:
    return placing.Model(hosts=hosts, vms=vms, groups={}, services=services,
                         free={h.name: h.free for h in hosts})


def _disabled(name: str, ram: float, zone: str = "nova") -> Host:
    return Host(name=name, free=(64, ram, 1000), zone=zone, usable=False, why_not="disabled")


def test_only_as_many_reserved_hosts_as_needed_in_order_and_in_the_vms_zone() -> None:
    vms = [Vm(id=f"v{i}", name=f"v{i}", demand=(1, 4096, 10), zone="az1") for i in range(3)]
    hosts = [Host("c2", (64, 4096, 1000), zone="az1"), _disabled("small", 1024, "az1"),
             _disabled("other", 99999, "az2"), _disabled("r1", 8192, "az1"),
             _disabled("r2", 8192, "az1")]
    services = [_service(h.name, status="enabled" if h.usable else "disabled") for h in hosts]
    placed, chosen, skipped = reserved.choose(_model(hosts, services, vms),
                                              ["small", "other", "r1", "r2", "gone"])
    assert placed[1] == {} and set(placed[0].values()) == {"c2", "r1"}
    assert [c["host"] for c in chosen] == ["r1"]  # r2 and "gone" never needed
    assert "2 VMs waiting for capacity" in chosen[0]["reason"]
    assert "2 of them fit" in chosen[0]["reason"]
    assert skipped == [
        {"host": "small", "reason": "none of the 2 waiting VMs fits on it"},
        {"host": "other", "reason": "in availability zone az2; the waiting VMs are pinned "
                                    "to az1"}]


def test_a_down_or_forced_down_reserved_host_is_never_enabled() -> None:
    vms = [Vm(id="v", name="v", demand=(1, 4096, 10))]
    hosts = [_disabled("down", 99999), _disabled("fenced", 99999), _disabled("r", 8192)]
    services = [_service("down", state="down", status="disabled"),
                _service("fenced", status="disabled", forced_down=True),
                _service("r", status="disabled")]
    _, chosen, skipped = reserved.choose(_model(hosts, services, vms),
                                         ["down", "fenced", "nowhere", "r"])
    assert [c["host"] for c in chosen] == ["r"]
    assert [(s["host"], s["reason"]) for s in skipped] == [
        ("down", "down: never enabled"), ("fenced", "forced down: never enabled"),
        ("nowhere", "no nova-compute service of that name")]


# -- the plan step ----------------------------------------------------------------------------
def test_the_plan_enables_a_reserved_host_and_places_the_waiting_vms_on_it(
        use: Any, tmp_path: Path, placement: dict[str, Any],
        caplog: pytest.LogCaptureFixture) -> None:
    placement["free"].update(r1=(64.0, 8192.0, 1000.0), r2=(64.0, 16384.0, 1000.0))
    nova = _cloud([_service("r1", status="disabled"), _service("r2", status="disabled")])
    use(nova, conf=_policy_file(tmp_path, "    reserved_hosts: [r1, r2]\n"))
    caplog.set_level("INFO")
    out = PlanAction("inc-7", "c1", fence=FENCED).run(CTX)
    assert nova.calls == [("enable_service", "r1")]  # one was enough
    assert out["waiting"] == [] and len(out["instances"]) == 3
    assert sorted(i["target_host"] for i in out["instances"]) == ["c2", "r1", "r1"]
    (entry,) = out["reserved_enabled"]
    assert entry["host"] == "r1" and "waiting for capacity" in entry["reason"]
    assert out["reserved_would_enable"] == [] and out["host_policy"]["reserved_hosts"] == [
        "r1", "r2"]
    assert any("incident inc-7 host c1" in r.getMessage() and "reserved host r1 enabled"
               in r.getMessage() for r in caplog.records)


def test_shadow_mode_and_the_preview_enable_nothing_and_say_what_they_would(
        use: Any, tmp_path: Path, placement: dict[str, Any]) -> None:
    runs: list[Callable[[], dict[str, Any]]] = [
        lambda: PlanAction("i", "c1").run(CTX),  # shadow mode: the fence step never ran
        lambda: PlanAction("i", "c1", preview=True, fence=FENCED).run(CTX)]
    for run in runs:
        nova = _with_r1(use, tmp_path, placement)
        out = run()
        assert nova.count("enable_service") == 0
        assert [e["host"] for e in out["reserved_would_enable"]] == ["r1"]
        assert out["reserved_enabled"] == []
        # planned as a recovery would plan it: the VMs go to the reserved host
        assert out["waiting"] == [] and "r1" in {i["target_host"] for i in out["instances"]}
    nova = _with_r1(use, tmp_path, placement, "    mode: plan\n")
    # a host switched to shadow mode after its fence step passed acts as one too
    shadow = PlanAction("i", "c1", fence=FENCED).run(CTX)
    assert shadow["reserved_would_enable"][0]["host"] == "r1"
    assert nova.count("enable_service") == 0


def test_an_already_enabled_reserved_host_is_just_used(
        use: Any, tmp_path: Path, placement: dict[str, Any]) -> None:
    nova = _with_r1(use, tmp_path, placement, "    target_hosts: [c2]\n", ram=8192.0)
    first = PlanAction("i", "c1", fence=FENCED).run(CTX)
    # a re-run (or the task's retry) finds the host enabled
    again = PlanAction("i", "c1", attempt=2, fence=FENCED).run(CTX)
    assert nova.count("enable_service") == 1
    assert [e["host"] for e in first["reserved_enabled"]] == ["r1"]
    assert again["reserved_enabled"] == [] and again["waiting"] == []
    # target_hosts limit the plan, and the reserved hosts are targets too
    assert {i["target_host"] for i in again["instances"]} == {"c2", "r1"}


def test_without_reserved_hosts_or_with_none_usable_the_vms_wait(
        use: Any, tmp_path: Path, placement: dict[str, Any]) -> None:
    nova = _with_r1(use, tmp_path, placement, state="down")
    out = PlanAction("i", "c1", fence=FENCED).run(CTX)
    assert nova.count("enable_service") == 0 and len(out["waiting"]) == 2
    assert out["reserved_skipped"] == [{"host": "r1", "reason": "down: never enabled"}]


def test_a_later_round_enables_a_reserved_host_that_came_up(
        use: Any, tmp_path: Path, placement: dict[str, Any]) -> None:
    nova = _with_r1(use, tmp_path, placement, conf="[recovery]\ncapacity_wait = 600\n",
                    state="down")
    planned = PlanAction("inc", "c1", fence=FENCED).run(CTX)
    assert len(planned["waiting"]) == 2 and nova.count("enable_service") == 0
    nova.heartbeat("r1")  # the reserved host's nova-compute reports again
    done = [{"record": {"id": i["id"], "result": "evacuated"}} for i in planned["instances"]]
    out = NextRoundAction("inc", "c1", planned, results=done).run(CTX)
    assert out["round_state"] == "run" and nova.calls[-1] == ("enable_service", "r1")
    assert {i["target_host"] for i in out["instances"]} == {"r1"} and out["waiting"] == []
    assert [e["host"] for e in out["reserved_enabled"]] == ["r1"]


def test_a_later_round_logs_a_reserved_host_left_alone_only_when_its_reason_changes(
        use: Any, tmp_path: Path, placement: dict[str, Any],
        caplog: pytest.LogCaptureFixture) -> None:
    nova = _with_r1(use, tmp_path, placement, conf="[recovery]\ncapacity_wait = 600\n",
                    state="down")
    placement["free"]["c2"] = (0.0, 0.0, 0.0)  # nothing fits: every VM waits
    caplog.set_level("INFO")
    planned = PlanAction("inc", "c1", fence=FENCED).run(CTX)
    assert planned["instances"] == [] and len(planned["waiting"]) == 3
    done: list[dict[str, Any]] = []

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if "reserved host r1 not enabled"
                in r.getMessage()]

    assert len(lines()) == 1  # the plan step says it once
    again = NextRoundAction("inc", "c1", planned, results=done).run(CTX)
    again = NextRoundAction("inc", "c1", again, results=[]).run(CTX)
    assert again["round_state"] == "wait" and len(again["waiting"]) == 3
    assert len(lines()) == 1 and again["reserved_skipped"] == planned["reserved_skipped"]
    (r1,) = nova.compute_services("r1")
    r1["forced_down"] = True  # a new reason: said again
    NextRoundAction("inc", "c1", again, results=[]).run(CTX)
    assert len(lines()) == 2 and "forced down" in lines()[-1]


def test_a_later_round_of_a_host_switched_to_shadow_mode_enables_nothing(
        use: Any, tmp_path: Path, placement: dict[str, Any]) -> None:
    nova = _with_r1(use, tmp_path, placement, conf="[recovery]\ncapacity_wait = 600\n",
                    state="down")
    planned = PlanAction("inc", "c1", fence=FENCED).run(CTX)
    # r1 up now, and c1's policy switched to shadow mode
    nova = _with_r1(use, tmp_path, placement, "    mode: plan\n",
                    conf="[recovery]\ncapacity_wait = 600\n")
    done = [{"record": {"id": i["id"], "result": "evacuated"}} for i in planned["instances"]]
    out = NextRoundAction("inc", "c1", planned, results=done).run(CTX)
    assert nova.count("enable_service") == 0
    assert out["reserved_enabled"] == []
    assert [e["host"] for e in out["reserved_would_enable"]] == ["r1"]


# -- the facade and the CLI ------------------------------------------------------------------
def test_the_facade_enables_by_uuid_from_2_53_and_by_host_before() -> None:
    calls: list[tuple[Any, ...]] = []
    client = SimpleNamespace(services=SimpleNamespace(enable=lambda *a: calls.append(a)))
    NovaFacade(client, None, "2.95").enable_service({"id": "uuid-1", "host": "r1"})
    NovaFacade(client, None, "2.52").enable_service({"id": 7, "host": "r1"})
    assert calls == [("uuid-1",), ("r1", "nova-compute")]


def test_host_recovery_plan_shows_the_reserved_hosts_it_would_enable() -> None:
    shown = plan_cli.render("c1", {
        "instances": [{"id": "1", "name": "db", "priority": 0, "tier": 0,
                       "target_host": "r1"}],
        "reserved_would_enable": [{"host": "r1", "reason": "1 VMs waiting for capacity"}],
        "reserved_skipped": [{"host": "r2", "reason": "down: never enabled"}]})
    assert "reserved host r1 would be enabled: 1 VMs waiting for capacity" in shown
    assert "reserved host r2 would not be enabled: down: never enabled" in shown


def test_a_reserved_host_nova_refuses_to_enable_is_reported_and_the_vms_wait(
        use: Any, tmp_path: Path, placement: dict[str, Any]) -> None:
    placement["free"]["r1"] = (64.0, 16384.0, 1000.0)

    class Refusing(ReservingNova):
        def enable_service(self, service: dict[str, Any]) -> None:
            raise NovaError(400, "Invalid input")

    nova = Refusing([dict(server(v, name=v), flavor=dict(GIB4)) for v in ("a", "b")],
                    services=[_service("c1", state="down"), _service("r1", status="disabled")])
    use(nova, conf=_policy_file(tmp_path, "    reserved_hosts: [r1]\n"))
    out = PlanAction("i", "c1", fence=FENCED).run(CTX)
    assert out["reserved_enabled"] == [] and len(out["waiting"]) == 2
    assert out["reserved_skipped"][0]["reason"].startswith("Nova refused to enable it: 400")


def test_masakaris_reserved_host_method_targets_only_the_reserved_hosts(
        use: Any, tmp_path: Path, placement: dict[str, Any]) -> None:
    # recovery_method reserved_host: target_hosts and reserved_hosts name the same hosts
    nova = _with_r1(use, tmp_path, placement, "    target_hosts: [r1]\n")
    out = PlanAction("i", "c1", fence=FENCED).run(CTX)
    assert nova.count("enable_service") == 1 and out["waiting"] == []
    assert {i["target_host"] for i in out["instances"]} == {"r1"}  # c2 is not a target
