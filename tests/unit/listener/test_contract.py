"""The workflow contract (notifications/contract.py) against the YAML and the pack's setup.cfg."""

from __future__ import annotations

import configparser
import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

import workflows
from host_recovery_actions.wait import WaitEvacuationAction
from notifications import contract

REPO = Path(__file__).resolve().parents[3]


def _workflows() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(workflows.definition())
    return doc


def test_every_action_name_is_registered_by_the_action_pack() -> None:
    setup = configparser.ConfigParser()
    setup.read(REPO / "workflows/actions/setup.cfg")
    registered = {line.split("=")[0].strip()
                  for line in setup["entry_points"]["mistral.actions"].splitlines() if line}
    names = {value for key, value in vars(contract).items()
             if key.isupper() and isinstance(value, str) and value.startswith("host_recovery.")
             and key not in ("RECOVER_HOST", "RECOVER_INSTANCE")}
    assert names and names <= registered


def test_workflow_and_task_names_are_the_yamls() -> None:
    doc = _workflows()
    host, instance = doc[contract.RECOVER_HOST], doc[contract.RECOVER_INSTANCE]
    for task in (contract.TASK_PLAN, contract.TASK_RECOVER, contract.TASK_AWAIT_APPROVAL):
        assert task in host["tasks"], task
    assert host["tasks"][contract.TASK_AWAIT_APPROVAL]["action"] == contract.AWAIT_APPROVAL
    wait = instance["tasks"][contract.TASK_WAIT]
    assert wait["action"] == contract.WAIT_EVACUATION
    assert instance["tasks"][contract.TASK_POLL]["action"] == contract.POLL_EVACUATION
    # the wait's input spells contract.WaitInput's fields as the listener reads them (but
    # accepted_at: the wait evacuates after its creation), then the VM it evacuates; every
    # one is a parameter of the action
    read = set(contract.WaitInput.__annotations__) - {"accepted_at"}
    assert read <= set(wait["input"])
    parameters = set(inspect.signature(WaitEvacuationAction).parameters)
    assert set(wait["input"]) == parameters - {"accepted_at"}


def test_wait_input_is_typed_or_none() -> None:
    raw = ('{"instance_id": "vm", "incident_id": "inc", "source_host": "c1", '
           '"accepted_at": "2025-03-01T12:00:00+00:00", "attempt": 2}')
    wait = contract.wait_input(raw)
    assert wait is not None and wait["instance_id"] == "vm" and wait["attempt"] == 2
    assert contract.accepted_epoch(wait["accepted_at"]) == 1740830400.0
    assert contract.wait_input({"instance_id": "vm"}) is None  # no incident: not ours
    assert contract.wait_input("not json") is None


@pytest.mark.parametrize(("host", "state", "evacuated"), [
    ("c2", "active", True), ("c2", "STOPPED", True), ("c1", "active", False),
    (None, "active", False), ("c2", "building", False), ("c2", "error", False)])
def test_the_evacuated_rule(host: str | None, state: str, evacuated: bool) -> None:
    assert contract.is_evacuated(host, "c1", state) is evacuated


def test_http_statuses_map_to_the_exception_family() -> None:
    assert isinstance(contract.error_for(503, "x"), contract.MistralUnavailable)
    assert isinstance(contract.error_for(404, "x"), contract.MistralNotFound)
    rejected = contract.error_for(400, "bad")
    assert isinstance(rejected, contract.MistralRejected) and rejected.status == 400
    done = contract.error_for(500, "Action abc is already completed")
    assert isinstance(done, contract.ActionAlreadyCompleted)
    assert contract.instance_id_of('{"instance": {"id": "vm"}}') == "vm"
