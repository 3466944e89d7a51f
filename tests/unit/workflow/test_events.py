"""Our notification payloads: the samples shipped for dashboards match the builders."""

from __future__ import annotations

import json
from pathlib import Path

import host_recovery_actions
from host_recovery_actions import events
from workflows import REQUIRED_PACK_VERSION, WORKFLOW_NAME, definition

SAMPLES = Path(host_recovery_actions.__file__).parent / "samples"


def test_every_event_type_has_a_sample_with_the_builder_keys() -> None:
    names = {p.stem for p in SAMPLES.glob("*.json")}
    assert names == {f"host_recovery.incident.{e}" for e in events.INCIDENT_EVENTS} | {
        f"host_recovery.instance.{e}" for e in events.INSTANCE_EVENTS}
    record = events.record({"id": "x"}, "h", "evacuated", None)
    _, instance = events.instance(record, "i", 1, "e")
    for name in names:
        sample = json.loads((SAMPLES / f"{name}.json").read_text())
        base = {"version", "incident_id", "attempt", "execution_id"}
        assert base <= set(sample)
        if ".instance." in name:
            assert set(sample) == set(instance)


def test_the_workflow_definition_and_pack_version_agree() -> None:
    assert REQUIRED_PACK_VERSION == host_recovery_actions.PACK_VERSION
    text = definition()
    assert f"\n{WORKFLOW_NAME}:" in text and "\nhost_recovery.recover_instance:" in text
