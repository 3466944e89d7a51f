"""Host and instance policy: precedence and per-state handling (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from host_recovery_actions import host_policy, policy
from tests.unit.workflow.fakes import server

RULES = [{"match": "c1", "enabled": False},
         {"match": "db-*", "on_shared_storage": True, "max_concurrency": 2,
          "target_aggregate": "spares"},
         {"match": "*", "max_concurrency": 8}]
AGGS = [{"id": 1, "name": "ha", "hosts": ["db-1", "web-1"],
         "metadata": {"host_recovery:on_shared_storage": "false",
                      "host_recovery:enabled": "true", "host_recovery:max_concurrency": "4",
                      "other": "x"}}]


def test_host_policy_file_wins_over_aggregate_metadata_field_by_field() -> None:
    hp = policy.resolve_host_policy("db-1", RULES, AGGS)
    assert hp.on_shared_storage is True and hp.max_concurrency == 2
    assert hp.sources["on_shared_storage"] == "host-policy:db-*"
    assert hp.enabled is True and hp.sources["enabled"] == "aggregate:ha"
    assert hp.target_aggregate == "spares"


def test_aggregate_metadata_applies_when_the_first_matching_rule_is_silent() -> None:
    hp = policy.resolve_host_policy("web-1", RULES, AGGS)
    assert hp.max_concurrency == 8  # the "*" rule
    assert hp.on_shared_storage is False and hp.sources["on_shared_storage"] == "aggregate:ha"


def test_defaults_without_rules_or_aggregates() -> None:
    hp = policy.resolve_host_policy("x", [], [])
    assert hp.enabled is True and hp.on_shared_storage is None and hp.sources == {}
    assert policy.resolve_host_policy("c1", RULES, AGGS).enabled is False


@pytest.mark.parametrize("host_value,incident,default,expected,source", [
    (True, False, False, True, "host-policy:x"),
    (None, True, False, True, "incident"),
    (None, False, True, False, "incident"),
    (None, None, True, True, "default"),
])
def test_shared_storage_host_policy_over_incident_over_default(
        host_value: bool | None, incident: bool | None, default: bool, expected: bool,
        source: str) -> None:
    hp = policy.HostPolicy(on_shared_storage=host_value,
                           sources={"on_shared_storage": "host-policy:x"} if host_value
                           is not None else {})
    got = policy.resolve_shared_storage(hp, incident, default, nova_decides=False)
    assert (got["value"], got["source"], got["sent"]) == (expected, source, True)
    assert policy.resolve_shared_storage(hp, incident, default, True)["sent"] is False


RULES_DEFAULT = policy.InstanceRules()


@pytest.mark.parametrize("vm,action", [
    (server("a"), "evacuate"),
    (server("a", vm_state="stopped"), "evacuate"),
    (server("a", vm_state="error"), "skip"),
    (server("a", vm_state="paused"), "skip"),
    (server("a", vm_state="suspended"), "skip"),
    (server("a", vm_state="shelved"), "skip"),
    (server("a", vm_state="rescued"), "skip"),
    (server("a", vm_state="resized"), "skip"),
    (server("a", task_state="resize_migrating"), "skip"),
    (server("a", task_state="rebuilding"), "evacuate"),
    (server("a", vm_state="building"), "skip"),
    (server("a", metadata={"HA_Enabled": "False"}), "skip"),
    (server("a", metadata={"host_recovery:enabled": "false"}), "skip"),
    (server("a", extra_specs={"host_recovery:enabled": "false"}), "skip"),
    (server("a", locked=True, locked_reason="mine"), "evacuate"),
    (server("a", locked=True, locked_reason="host-recovery incident x"), "evacuate"),
])
def test_instance_decisions_with_default_rules(vm: dict, action: str) -> None:
    decision = policy.decide_instance(vm, vm["flavor"]["extra_specs"], {}, RULES_DEFAULT)
    assert decision.action == action
    assert decision.reason


def test_reset_policies_turn_skips_into_resets_that_end_active() -> None:
    rules = policy.InstanceRules(error_vms="reset", other_states="reset", task_state="reset")
    for vm in (server("a", vm_state="error"), server("a", vm_state="paused"),
               server("a", task_state="migrating")):
        decision = policy.decide_instance(vm, {}, {}, rules)
        assert (decision.action, decision.expected_state) == ("reset", "active")


def test_user_locked_policy_skip_but_our_own_lock_is_resumed() -> None:
    rules = policy.InstanceRules(user_locked="skip")
    user = policy.decide_instance(server("a", locked=True, locked_reason="x"), {}, {}, rules)
    ours = policy.decide_instance(server("a", locked=True,
                                         locked_reason="host-recovery incident i"), {}, {},
                                  rules)
    assert user.action == "skip" and "locked" in user.reason
    assert ours.action == "evacuate" and not ours.user_locked


def test_opt_in_needs_a_key_an_alias_or_an_evacuable_tag() -> None:
    rules = policy.InstanceRules(mode="opt-in")
    assert policy.decide_instance(server("a"), {}, {}, rules).action == "skip"
    assert policy.decide_instance(server("a", metadata={"HA_Enabled": "True"}), {}, {},
                                  rules).action == "evacuate"
    assert policy.decide_instance(server("a"), {"evacuable": "true"}, {},
                                  rules).action == "evacuate"
    assert policy.decide_instance(server("a"), {}, {"evacuable": "true"},
                                  rules).action == "evacuate"
    tagged = dict(server("a"), tags=["evacuable"])
    assert policy.decide_instance(tagged, {}, {}, rules).action == "evacuate"


def test_metadata_over_flavor_over_image() -> None:
    vm = server("a", metadata={"host_recovery:enabled": "true"})
    decision = policy.decide_instance(vm, {"host_recovery:enabled": "false"},
                                      {"HA_Enabled": "false"}, RULES_DEFAULT)
    assert decision.action == "evacuate"
    decision = policy.decide_instance(server("a"), {"HA_Enabled": "true"},
                                      {"HA_Enabled": "false"},
                                      policy.InstanceRules(mode="opt-in"))
    assert decision.action == "evacuate"


def test_priority_keys_and_order() -> None:
    vms = [server("a", name="b"), server("b", name="a", metadata={"evacuation_priority": "5"}),
           server("c", name="c", metadata={"host_recovery:priority": "9"})]
    plans = [{"id": v["id"], "name": v["name"],
              "priority": policy.decide_instance(v, {}, {}, RULES_DEFAULT).priority}
             for v in vms]
    assert [p["id"] for p in policy.order(plans)] == ["c", "b", "a"]


def test_host_policy_file_loading(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("hosts:\n  - match: 'c*'\n    enabled: false\n")
    assert host_policy.load_rules(str(path)) == [{"match": "c*", "enabled": False}]
    assert host_policy.load_rules(str(tmp_path / "missing.yaml")) == []
    path.write_text("hosts:\n  - match: 'c*'\n    enabeld: false\n")
    rules = host_policy.load_rules(str(path))  # a typo never stops recovery
    assert rules == [{"match": "c*"}]
    assert rules.problems == [f"host policy file {path}: rule 'c*': unknown key 'enabeld' "
                              "(ignored)"]


def test_a_policy_file_of_the_wrong_shape_is_refused_and_the_host_uses_defaults(
        tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("- match: 'c*'\n  enabled: false\n")  # a list: the old code read "no rules"
    rules = host_policy.load_rules(str(path))
    assert list(rules) == [] and "refused" in rules.problems[0]
    assert "top level is a list" in rules.problems[0]
    hp = policy.resolve_host_policy("c1", rules, [])
    assert hp.enabled is True and hp.warnings == rules.problems
    assert host_policy.check(str(path)) == rules.problems
    path.write_text("hosts: {match: x}\n")
    assert "'hosts' is a dict" in host_policy.check(str(path))[0]
    path.write_text("hosts:\n  - match: 'c*'\n    max_concurrency: ten\n")
    assert host_policy.check(str(path)) == [
        f"host policy file {path}: rule 'c*': max_concurrency=ten is not an integer"]
    assert host_policy.check(str(tmp_path / "missing.yaml")) == []


def test_a_bad_aggregate_value_is_ignored_with_a_warning_naming_aggregate_and_key() -> None:
    aggs = [{"id": 1, "name": "rack-7", "hosts": ["c1"],
             "metadata": {"host_recovery:max_concurrency": "ten",
                          "host_recovery:enabled": "maybe",
                          "host_recovery:unfenced_recovery": "sure"}},
            {"id": 2, "name": "az-2", "hosts": ["c1"],
             "metadata": {"host_recovery:max_concurrency": "3"}}]
    hp = policy.resolve_host_policy("c1", [], aggs)  # the old code raised ValueError here
    assert hp.max_concurrency == 3 and hp.sources["max_concurrency"] == "aggregate:az-2"
    assert hp.enabled is True and hp.unfenced_recovery == "deny"
    assert "aggregate rack-7: host_recovery:max_concurrency=ten is not an integer " \
           "(ignored)" in hp.warnings
    assert "aggregate rack-7: host_recovery:enabled=maybe is not a boolean (ignored)" \
        in hp.warnings
    assert len(hp.warnings) == 3


@pytest.mark.parametrize("raw,expected,clamped", [
    ("-3", 1, True), (0, 1, True), ("7", 7, False), (True, None, False)])
def test_concurrency_is_clamped_to_at_least_one(raw: object, expected: int | None,
                                                clamped: bool) -> None:
    hp = policy.resolve_host_policy("h", [{"match": "*", "max_concurrency": raw}], [])
    assert hp.max_concurrency == expected
    assert bool(hp.warnings) == (clamped or expected is None)


def test_unfenced_recovery_opt_in_and_require_down_for() -> None:
    rules = [{"match": "lab-*", "unfenced_recovery": "allow", "require_down_for": 30}]
    hp = policy.resolve_host_policy("lab-1", rules, [])
    assert (hp.unfenced_recovery, hp.require_down_for) == ("allow", 30)
    assert hp.sources["unfenced_recovery"] == "host-policy:lab-*"
    default = policy.resolve_host_policy("prod-1", rules, [])
    assert (default.unfenced_recovery, default.require_down_for) == (
        "deny", policy.DEFAULT_REQUIRE_DOWN_FOR)
    huge = policy.resolve_host_policy("h", [{"match": "*", "require_down_for": 10**6}], [])
    assert huge.require_down_for == policy.MAX_REQUIRE_DOWN_FOR and huge.warnings


def test_the_shipped_example_policy_file_loads() -> None:
    rules = host_policy.load_rules(str(Path(__file__).resolve().parents[3]
                                       / "etc/host-recovery/host-policy.yaml"))
    assert rules and all("match" in r for r in rules)
