"""approve --fenced carries operator evidence; unfence is registered and refuses mid-recovery."""

from __future__ import annotations

from typing import Any

from host_recovery_actions import giveback
from listener.cmd import operator
from listener.operator import decisions
from notifications.contract import AWAIT_APPROVAL, RECOVER_HOST
from notifications.fencing_evidence import validate_evidence


class FakeMistral:
    def __init__(self) -> None:
        self.completed: list[tuple[str, dict[str, Any]]] = []

    def list_action_executions(self, name: str, state: str = "RUNNING",
                               **_: Any) -> list[dict[str, Any]]:
        assert name == AWAIT_APPROVAL
        return [{"id": "a1", "input": {"incident_id": "inc-1", "host": "compute1"}}]

    def complete_action(self, action_id: str, output: dict[str, Any]) -> dict[str, Any]:
        self.completed.append((action_id, output))
        return {}


def test_approve_fenced_records_operator_evidence() -> None:
    api = FakeMistral()
    status, lines = decisions.decide(api, "compute1", True, "ops@ctl", fenced=True)  # type: ignore[arg-type]
    assert status == 0 and "operator evidence recorded" in lines[0]
    output = api.completed[0][1]
    record = validate_evidence(output["fencing_evidence"])
    assert (record["kind"], record["target"], record["by"]) == ("operator", "compute1", "ops@ctl")
    assert record["completed_at"].endswith("Z")


def test_approve_without_fenced_and_discard_carry_no_evidence() -> None:
    api = FakeMistral()
    decisions.decide(api, "inc-1", True, "ops")  # type: ignore[arg-type]
    decisions.decide(api, "inc-1", False, "ops", fenced=True)  # type: ignore[arg-type]
    assert [out for _, out in api.completed] == [{"approved": True, "by": "ops"},
                                                 {"approved": False, "by": "ops"}]


def test_cli_parses_fenced_and_unfence() -> None:
    parser = operator.build_parser()
    assert parser.parse_args(["approve", "compute1", "--fenced"]).fenced is True
    assert parser.parse_args(["discard", "compute1"]).fenced is False
    args = parser.parse_args(["unfence", "compute1"])
    assert args.host == "compute1" and args.func.__module__ == "listener.operator.unfence"


def _execution(state: str, forced: bool = True) -> dict[str, Any]:
    return {"id": f"ex-{state}", "workflow_name": RECOVER_HOST, "state": state,
            "input": {"incident_id": "inc-1", "search_opts": {"host": "compute1"}},
            "output": {"fence": {"forced_down": forced,
                                 "service": {"updated_at": "2026-01-01T00:00:05"}}}}


def test_give_back_refuses_while_a_recovery_of_the_host_runs() -> None:
    service = {"forced_down": True, "updated_at": "2026-01-01T00:01:00"}
    ok, reason, _ = giveback.decide("compute1", [_execution("RUNNING"),
                                                 _execution("SUCCESS")], service)
    assert not ok and reason.startswith("refused: a recovery of compute1 is running")
    ok, _, incident = giveback.decide("compute1", [_execution("SUCCESS")], service)
    assert ok and incident == "inc-1"


def test_give_back_reads_the_output_mistral_leaves_out_of_lists() -> None:
    listed = dict(_execution("SUCCESS"), output=None)

    class Reads:
        def execution(self, _id: str) -> dict[str, Any]:
            return dict(_execution("SUCCESS"), output='{"fence": {"forced_down": true}}')

    full = giveback._with_output(Reads(), "compute1", [listed])
    assert full[0]["output"]["fence"]["forced_down"] is True
