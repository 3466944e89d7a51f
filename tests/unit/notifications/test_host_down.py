"""The host-down contract: payload, schema errors naming the field, signature, replay."""

import datetime as dt
import json
import uuid
from importlib import resources

import pytest

from notifications import host_down as hd

KEY = "unit-test-key"
T0 = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def _payload(**overrides):
    kwargs = dict(incident_id=hd.incident_id_for("compute-1", "fenced@1740830400"),
                  failure_time=T0, reporter="ocf@ctl-1", fencing_confirmed=True,
                  source="ocf", on_shared_storage=False, signing_key=KEY, sent_at=T0)
    kwargs.update(overrides)
    return hd.build_payload("compute-1", **kwargs)


def _parse(payload, now=T0, **kwargs):
    opts = dict(signing_key=KEY, allow_unsigned=False, replay_window=900, clock_skew=60)
    opts.update(kwargs)
    return hd.parse_host_down(payload, now=now, **opts)


def _reason(payload, **kwargs):
    with pytest.raises(hd.InvalidHostDown) as info:
        _parse(payload, **kwargs)
    assert info.value.reason in hd.REASONS
    return info.value


def test_incident_id_is_stable_uuid5_of_host_and_event_key():
    a = hd.incident_id_for("compute-1", "fenced@100")
    assert a == hd.incident_id_for("compute-1", "fenced@100")
    assert len(a) == 36
    assert a != hd.incident_id_for("compute-1", "fenced@101")
    assert a != hd.incident_id_for("compute-2", "fenced@100")
    assert uuid.UUID(a) == uuid.uuid5(hd.HOST_RECOVERY_NS, "compute-1|fenced@100")


def test_round_trip_gives_workflow_input_of_the_spec():
    event = _parse(_payload())
    assert event.host == "compute-1"
    assert event.fencing_confirmed is True
    assert event.failure_time == T0
    assert event.workflow_input() == {
        "search_opts": {"host": "compute-1"}, "on_shared_storage": False,
        "incident_id": event.incident_id, "fencing_confirmed": True,
        "fencing_evidence": None, "failure_time": "2025-03-01T12:00:00.000Z",
        "reporter": "ocf@ctl-1", "source": "ocf", "attempt": 1}


def test_signature_is_hmac_over_canonical_form_of_design_doc():
    import hashlib
    import hmac
    payload = _payload()
    body = {k: v for k, v in payload.items() if k != "signature"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert payload["signature"] == hmac.new(KEY.encode(), text.encode(),
                                            hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda p: p.pop("incident_id"), "incident_id: required"),
    (lambda p: p["search_opts"].pop("host"), "search_opts.host: required"),
    (lambda p: p["search_opts"].update(host=""), "search_opts.host"),
    (lambda p: p.update(fencing_confirmed="yes"), "fencing_confirmed"),
    (lambda p: p.update(on_shared_storage="true"), "on_shared_storage"),
    (lambda p: p.update(failure_time="yesterday"), "failure_time"),
    (lambda p: p.update(sent_at="2025-03-01T12:00:00"), "sent_at"),  # no UTC offset
    (lambda p: p.update(incident_id="x" * 37), "incident_id"),
    (lambda p: p.update(extra=1), "extra: unexpected field"),
    (lambda p: p.update(signature="nothex"), "signature"),
])
def test_malformed_names_the_field(mutate, field):
    payload = _payload(signing_key=None)
    mutate(payload)
    error = _reason(payload, allow_unsigned=True)
    assert error.reason == "malformed"
    assert field in error.detail


def test_not_an_object_and_missing_version_are_malformed():
    assert _reason(["x"]).reason == "malformed"
    payload = _payload()
    del payload["version"]
    assert _reason(payload).detail == "version: required"


def test_other_version_is_unsupported():
    error = _reason(dict(_payload(), version="2.0"))
    assert error.reason == "unsupported_version"
    assert error.detail.startswith("version:")


def test_unsigned_rejected_unless_allowed():
    payload = _payload(signing_key=None)
    assert "signature" not in payload
    assert _reason(payload).reason == "unsigned"
    assert _parse(payload, allow_unsigned=True).host == "compute-1"


def test_signed_but_no_key_configured_is_rejected_unless_allowed():
    assert _reason(_payload(), signing_key=None).reason == "unsigned"
    assert _parse(_payload(), signing_key=None, allow_unsigned=True).host == "compute-1"


@pytest.mark.parametrize("tamper", [
    lambda p: p["search_opts"].update(host="compute-2"),
    lambda p: p.update(fencing_confirmed=False),
    lambda p: p.update(sent_at="2025-03-01T12:00:01.000Z"),
])
def test_any_change_after_signing_is_forged(tamper):
    payload = _payload()
    tamper(payload)
    assert _reason(payload).reason == "forged"


def test_wrong_key_is_forged_even_when_unsigned_allowed():
    assert _reason(_payload(signing_key="other"), allow_unsigned=True).reason == "forged"


def test_replay_window_and_clock_skew():
    payload = _payload()
    assert _parse(payload, now=T0 + dt.timedelta(seconds=900)).host == "compute-1"
    assert _parse(payload, now=T0 + dt.timedelta(seconds=900)).late_by == 0
    # late (listeners or Mistral were down): still a host-down, marked late
    assert _parse(payload, now=T0 + dt.timedelta(seconds=901)).late_by == 901
    assert _parse(payload, now=T0 - dt.timedelta(seconds=60)).host == "compute-1"
    assert _reason(payload, now=T0 - dt.timedelta(seconds=61)).reason == "clock"


def test_late_with_an_old_proof_of_death_is_stale():
    late = T0 + dt.timedelta(seconds=3601)
    stale = _reason(_payload(), now=late, stale_after=3600)
    assert stale.reason == "stale" and "stale_after" in stale.detail
    # fencing evidence newer than the failure is the proof that counts
    evidence = hd.make_evidence("operator", "compute-1", T0 + dt.timedelta(seconds=10),
                                by="alice")
    fresh = _parse(_payload(fencing_evidence=evidence), now=late, stale_after=3600)
    assert fresh.late_by == 3601
    # on time: never stale, whatever the proof's age (the fence step judges it)
    assert _parse(_payload(sent_at=late), now=late, stale_after=60).late_by == 0


def test_other_time_zone_offsets_are_accepted():
    payload = _payload(signing_key=None)
    payload["sent_at"] = "2025-03-01T14:00:00+02:00"
    assert _parse(payload, allow_unsigned=True).sent_at == T0


def test_unknown_reason_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown reason"):
        hd.InvalidHostDown("whatever", "x")


def _sample(name):
    return json.loads(resources.files("notifications.samples").joinpath(name).read_text())


def test_samples_are_valid():
    signed = _sample("host_down.signed.json")
    sent = dt.datetime.fromisoformat(signed["sent_at"])
    event = _parse(signed, signing_key="sample-signing-key", now=sent)
    assert event.incident_id == hd.incident_id_for("compute-1", "fenced@1736937000")
    unsigned = _sample("host_down.unsigned.json")
    assert _parse(unsigned, allow_unsigned=True, now=sent).source == "zabbix"
    envelope = _sample("host_down.envelope.json")
    message = json.loads(envelope["oslo.message"])
    assert envelope["oslo.version"] == "2.0"
    assert message["event_type"] == "host_recovery.host.down"
    assert message["payload"] == signed
    assert event.fencing_evidence is not None
    assert event.fencing_evidence["executioner"] == "ctl-2"


def test_schema_ships_as_package_data_and_is_valid():
    import jsonschema
    schema = json.loads(resources.files("notifications.schemas")
                        .joinpath("host_down.v1.json").read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert set(schema["required"]) == set(_payload()) - {"signature"}


FENCED = dict(kind="pacemaker_fencing", target="compute-1", action="reboot",
              completed_at="2025-03-01T11:59:58.000Z", executioner="ctl-2", origin="ctl-1")


def test_evidence_round_trips_into_the_workflow_input():
    evidence = hd.make_evidence("pacemaker_fencing", "compute-1",
                                T0 - dt.timedelta(seconds=2), action="reboot",
                                executioner="ctl-2", origin="ctl-1")
    event = _parse(_payload(fencing_evidence=evidence))
    assert event.fencing_evidence == dict(FENCED, by=None, incident_id=None)
    assert event.workflow_input()["fencing_evidence"] == event.fencing_evidence
    assert hd.evidence_time(evidence) == T0 - dt.timedelta(seconds=2)


def test_payload_without_evidence_has_no_field_and_parses_as_none():
    payload = _payload()
    assert "fencing_evidence" not in payload
    assert _parse(payload).fencing_evidence is None
    payload = _payload(signing_key=None)
    payload["fencing_evidence"] = None
    assert _parse(payload, allow_unsigned=True).fencing_evidence is None


def test_evidence_needs_fencing_confirmed():
    with pytest.raises(ValueError, match="fencing_confirmed"):
        _payload(fencing_confirmed=False, fencing_evidence=hd.validate_evidence(FENCED))
    payload = _payload(signing_key=None, fencing_confirmed=False)
    payload["fencing_evidence"] = FENCED
    assert "fencing_confirmed" in _reason(payload, allow_unsigned=True).detail


@pytest.mark.parametrize(("change", "field"), [
    (dict(action="on"), "fencing_evidence.action"),
    (dict(action=None), "fencing_evidence.action"),
    (dict(kind="guess"), "fencing_evidence.kind"),
    (dict(target=""), "fencing_evidence.target"),
    (dict(completed_at="yesterday"), "fencing_evidence.completed_at"),
    (dict(completed_at="2025-03-01T11:59:58"), "fencing_evidence.completed_at"),
    (dict(kind="operator", action=None), "fencing_evidence.by"),
    (dict(kind="nova_force_down", action=None), "fencing_evidence.incident_id"),
    (dict(extra="x"), "fencing_evidence.extra"),
])
def test_bad_evidence_is_malformed_naming_the_field(change, field):
    payload = _payload(signing_key=None)
    payload["fencing_evidence"] = dict(FENCED, **change)
    error = _reason(payload, allow_unsigned=True)
    assert error.reason == "malformed"
    assert field in error.detail


def test_operator_and_force_down_evidence_are_valid():
    operator = hd.make_evidence("operator", "compute-1", T0, by="alice")
    assert (operator["by"], operator["action"]) == ("alice", None)
    forced = hd.make_evidence("nova_force_down", "compute-1", T0, incident_id="inc-1")
    assert forced["completed_at"] == "2025-03-01T12:00:00.000Z"
