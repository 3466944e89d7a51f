"""Giving the host back: our force-down is cleared only when it is ours, no recovery of the
host runs, and nova-compute has reported since our write."""

from __future__ import annotations

from typing import Any

from host_recovery_actions import giveback

WRITTEN = "2025-01-15T10:31:00.000000"


def execution(state: str = "SUCCESS", forced: bool = True, host: str = "c1",
              incident: str = "i1") -> dict[str, Any]:
    return {"state": state, "input": {"search_opts": {"host": host}, "incident_id": incident},
            "output": {"fence": {"forced_down": forced, "service": {"updated_at": WRITTEN}}}}


def service(updated_at: str, forced: bool = True) -> dict[str, Any]:
    return {"id": "u1", "host": "c1", "state": "down", "forced_down": forced,
            "updated_at": updated_at}


def test_cleared_once_nova_compute_reported_after_our_force_down() -> None:
    ok, why, incident = giveback.decide("c1", [execution()], service("2025-01-15T10:40:00"))
    assert ok and incident == "i1" and "restarted" in why


def test_not_while_nova_compute_has_not_reported_since() -> None:
    ok, why, _ = giveback.decide("c1", [execution()], service(WRITTEN))
    assert not ok and why.startswith("not yet")


def test_refused_while_a_recovery_of_the_host_runs() -> None:
    ok, why, _ = giveback.decide("c1", [execution("RUNNING", incident="i2"), execution()],
                                 service("2025-01-15T10:40:00"))
    assert not ok and "running (incident i2)" in why


def test_a_force_down_someone_else_set_is_left_alone() -> None:
    ok, why, _ = giveback.decide("c1", [execution(forced=False)],
                                 service("2025-01-15T10:40:00"))
    assert not ok and "not set by host-recovery" in why
    ok, _, _ = giveback.decide("c1", [execution(host="c2")], service("2025-01-15T10:40:00"))
    assert not ok
    ok, why, _ = giveback.decide("c1", [execution()], service(WRITTEN, forced=False))
    assert not ok and "nothing to give back" in why
