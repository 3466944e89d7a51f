"""Our notifications' JSON Schema against the action pack's samples and payload builders."""

import importlib.util
import json
from pathlib import Path

import pytest

from notifications import recovery_events

PACK = Path(__file__).resolve().parents[3] / "workflows/actions/host_recovery_actions"
SAMPLES = sorted((PACK / "samples").glob("*.json"))


def _events_module():
    spec = importlib.util.spec_from_file_location("hr_pack_events", PACK / "events.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_notification(path, body):
    if "event_type" in body and "payload" in body:
        return body
    return {"event_type": path.stem, "payload": body}  # samples/<event_type>.json = payload


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_every_action_pack_sample_is_valid(path):
    notification = _as_notification(path, json.loads(path.read_text()))
    assert recovery_events.errors(notification) == []


def test_the_action_pack_has_a_sample_of_every_event_type():
    if not SAMPLES:
        pytest.skip("the action pack ships no samples yet (issue 6)")
    types = {_as_notification(p, json.loads(p.read_text()))["event_type"] for p in SAMPLES}
    assert types == set(recovery_events.EVENT_TYPES)


def test_the_pack_builders_produce_valid_payloads():
    events = _events_module()
    record = {"id": "vm-1", "name": "web", "project_id": "p", "original_state": "active",
              "final_state": "active", "result": "evacuated", "source_host": "c1",
              "dest_host": "c2", "attempts": 1, "reason": None, "seconds": 4.2}
    incident = "5f0c2d58-1f0e-5c55-9b2a-3f3c3f8f7e11"
    built = [
        events.incident("held", incident, "c1", 1, incident, reason="mass failure", rank=2),
        events.incident("start", incident, "c1", 1, incident, planned=3, skipped=1,
                        microversion="2.95", on_shared_storage=None),
        events.incident("end", incident, "c1", 1, incident, outcome="done", reason="ok",
                        summary={"total": 4, "evacuated": 3, "failed": 0, "skipped": 1}),
        events.incident("error", incident, "c1", 1, incident, outcome="failed", reason="x"),
        events.instance(record, incident, 1, incident),
        events.instance(dict(record, result="failed", reason="NoValidHost"), incident, 1,
                        incident),
        events.instance(dict(record, result="skipped", dest_host=None), incident, 1, None),
    ]
    for event_type, payload in built:
        recovery_events.validate(event_type, payload)


def test_a_violation_names_the_field():
    with pytest.raises(recovery_events.InvalidRecoveryEvent, match="result"):
        recovery_events.validate("host_recovery.instance.evacuated",
                                 {"version": "1.0", "incident_id": "i", "attempt": 1,
                                  "execution_id": None, "id": "vm", "result": "maybe",
                                  "source_host": "c1", "dest_host": None, "attempts": 0,
                                  "reason": None, "seconds": None})


@pytest.mark.parametrize("outcome", ["done", "failed", "skipped", "discarded", "refused",
                                     "planned", "not_fenced", "host_returned", "joined"])
def test_every_end_state_the_workflow_reports_is_a_valid_end_event(outcome):
    # the report task's outcomes (workflows/host_recovery.yaml, report.py): a schema that
    # rejected one would make consumers drop exactly the incidents an operator must see
    events = _events_module()
    incident = "5f0c2d58-1f0e-5c55-9b2a-3f3c3f8f7e11"
    event_type, payload = events.incident(
        "end", incident, "c1", 1, incident, outcome=outcome, reason="r",
        summary={"total": 1, "evacuated": 0, "failed": 0, "skipped": 1})
    recovery_events.validate(event_type, payload)
