"""notifications.nova on Nova's own samples: destination, state, fault."""

import pytest

from notifications import nova
from tests.unit.nova_confirm.samples import sample


def _parse(name):
    msg = sample(name)
    return nova.parse(msg["event_type"], msg["publisher_id"], msg["payload"])


def test_rebuild_end_takes_destination_from_publisher():
    event = _parse("instance-rebuild-end")
    assert event.kind == "end"
    assert event.instance_id == "178b0921-8f85-4257-88b6-2e743b5a975c"
    assert event.state == "active"
    assert event.dest_host == "compute"  # publisher nova-compute:compute
    assert event.fault is None


def test_rebuild_end_destination_wins_over_stale_payload_host():
    msg = sample("instance-rebuild-end")
    msg["payload"]["nova_object.data"]["host"] = "failed-source"
    event = nova.parse(msg["event_type"], "nova-compute:dest-7", msg["payload"])
    assert event.host == "failed-source"
    assert event.dest_host == "dest-7"


def test_rebuild_error_carries_novas_fault():
    event = _parse("instance-rebuild-error")
    assert event.kind == "error"
    assert event.fault == ("VirtualInterfaceCreateException: "
                           "Virtual Interface creation failed")
    assert event.task_state == "rebuilding"


def test_conductor_error_carries_reason_and_no_compute_host():
    event = _parse("compute_task-rebuild_server-error")
    assert event.kind == "error"
    assert event.instance_id == "d5e6a7b7-80e5-4166-85a3-cd6115201082"
    assert event.fault and "NoValidHost" in event.fault
    assert event.dest_host is None
    assert event.state == "error"


@pytest.mark.parametrize("event_type", ["instance.update", "instance.evacuate",
                                        "instance.rebuild.start", "compute.instance.exists"])
def test_unrelated_types_are_not_relevant(event_type):
    assert not nova.is_relevant(event_type)
    assert not nova.is_relevant(event_type, legacy=True)


def test_legacy_types_only_when_enabled():
    assert not nova.is_relevant("compute.instance.rebuild.end")
    assert nova.is_relevant("compute.instance.rebuild.end", legacy=True)
    event = nova.parse("compute.instance.rebuild.end", "compute.dest-2",
                       {"instance_id": "u-1", "state": "active", "host": "src"})
    assert (event.instance_id, event.dest_host, event.state) == ("u-1", "dest-2", "active")
    err = nova.parse("compute.instance.rebuild.error", "compute.dest-2",
                     {"instance_id": "u-1", "state": "error", "message": "boom"})
    assert err.fault == "boom"


@pytest.mark.parametrize("payload", [None, {}, {"nova_object.data": {}}, "text"])
def test_malformed_relevant_payloads_raise(payload):
    with pytest.raises(nova.MalformedNovaEvent):
        nova.parse("instance.rebuild.end", "nova-compute:x", payload)


def test_publisher_host_forms():
    assert nova.publisher_host("nova-compute:cmp-1.example.org") == "cmp-1.example.org"
    assert nova.publisher_host("compute.cmp-1") == "cmp-1"
    assert nova.publisher_host("") is None
    assert nova.publisher_host("nohost") is None
