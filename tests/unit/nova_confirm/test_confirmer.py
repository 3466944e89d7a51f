"""Confirmer: outcome, destination, fault, duplicates, pending retries, Mistral outages."""

import json
import time
from datetime import UTC, datetime

import prometheus_client
import pytest

from listener.metrics import Metrics
from listener.nova import waits as waits_module
from listener.nova.confirmer import Confirmer, Outcome
from notifications.contract import MistralUnavailable
from notifications.nova import InstanceEvent
from tests.unit.nova_confirm.fakes import FakeWaits

VM = "11111111-2222-3333-4444-555555555555"


def _event(kind="end", state="active", publisher="dest-1", fault=None,
           event_type="instance.rebuild.end", host="src"):
    return InstanceEvent(event_type=event_type, kind=kind, instance_id=VM, state=state,
                         task_state=None, host=host, publisher_host=publisher, fault=fault)


def _confirmer(waits, metrics=None, window=0.3):
    return Confirmer(waits, metrics=metrics, pending_window=window, mistral_retry_window=0.3,
                     sleep=lambda s: time.sleep(min(s, 0.01)))


def test_rebuild_end_completes_with_destination_from_publisher():
    waits = FakeWaits()
    waits.add("w1", VM, incident_id="inc", source_host="src")
    assert _confirmer(waits).confirm(_event()) is Outcome.COMPLETED
    assert waits.done["w1"] == {"result": "evacuated", "host": "dest-1", "vm_state": "active",
                                "fault": None, "via": "notification"}


def test_rebuild_error_reports_novas_fault():
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src")
    event = _event(kind="error", state="error", fault="VirtualInterfaceCreateException: x",
                   event_type="instance.rebuild.error")
    assert _confirmer(waits).confirm(event) is Outcome.COMPLETED
    assert waits.done["w1"]["result"] == "error"
    assert waits.done["w1"]["fault"] == "VirtualInterfaceCreateException: x"


def test_duplicate_event_after_completion_is_done_without_waiting():
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src")
    confirmer = _confirmer(waits, window=30)
    assert confirmer.confirm(_event()) is Outcome.COMPLETED
    started = time.monotonic()
    assert confirmer.confirm(_event()) is Outcome.DUPLICATE
    assert time.monotonic() - started < 5  # answered from Mistral's state, not the window
    assert len(waits.done) == 1


def test_next_attempts_wait_newer_than_the_cached_list_is_not_called_a_duplicate():
    # attempt 1's wait ended (rebuild.error); attempt 2's wait is not in the cached list yet
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src", attempt=1)
    confirmer = _confirmer(waits, window=30)
    error = _event(kind="error", state="error", fault="boom", event_type="instance.rebuild.error")
    assert confirmer.confirm(error) is Outcome.COMPLETED
    waits.add("w2", VM, source_host="src", attempt=2)
    waits.unlisted.add("w2")
    assert confirmer.confirm(_event()) is Outcome.COMPLETED
    assert waits.done["w2"]["result"] == "evacuated"


def test_event_for_instance_without_recovery_is_unrelated_at_once():
    waits = FakeWaits()
    assert _confirmer(waits, window=30).confirm(_event()) is Outcome.UNRELATED
    assert waits.lookups == 1


def test_event_before_its_wait_exists_is_retried_until_it_appears():
    waits = FakeWaits()
    waits.appear_after[VM] = 3
    waits.add("w1", VM, source_host="src")
    assert _confirmer(waits, window=30).confirm(_event()) is Outcome.COMPLETED
    assert waits.lookups >= 3
    assert "w1" in waits.done


def test_event_whose_wait_never_appears_is_dropped_after_the_window():
    waits = FakeWaits()
    waits.recovering_ids[VM] = ["ex-1"]
    assert _confirmer(waits, window=0.2).confirm(_event()) is Outcome.GAVE_UP
    assert waits.lookups > 1


def test_stopped_vm_on_a_new_host_is_evacuated_restore_is_the_workflows():
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src", expected_vm_state="active")
    assert _confirmer(waits).confirm(_event(state="stopped")) is Outcome.COMPLETED
    assert waits.done["w1"]["vm_state"] == "stopped"


def test_rebuild_end_in_an_unfinished_state_does_not_confirm():
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src")
    assert _confirmer(waits).confirm(_event(state="building")) is Outcome.NOT_READY


def test_event_from_the_failed_source_host_does_not_confirm():
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src")
    assert _confirmer(waits).confirm(_event(publisher="src")) is Outcome.NOT_READY


def test_event_from_an_earlier_attempt_is_stale():
    waits = FakeWaits()
    waits.add("w2", VM, source_host="src", accepted_at=1000.0)
    error = _event(kind="error", state="error", fault="f", event_type="instance.rebuild.error")
    assert _confirmer(waits).confirm(error, sent_at=990.0) is Outcome.STALE
    assert _confirmer(waits).confirm(_event(), sent_at=1010.0) is Outcome.COMPLETED


def test_mistral_outage_is_retried_then_raised():
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src")
    waits.failures = 2
    assert _confirmer(waits).confirm(_event()) is Outcome.COMPLETED
    waits.add("w9", VM, source_host="src")
    waits.failures = 10**6
    with pytest.raises(MistralUnavailable):
        _confirmer(waits).confirm(_event())


def test_completion_feeds_metrics():
    registry = prometheus_client.CollectorRegistry()
    metrics = Metrics(registry)
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src", accepted_at=100.0)
    confirmer = Confirmer(waits, metrics=metrics, now=lambda: 130.0)
    assert confirmer.confirm(_event(), sent_at=129.5) is Outcome.COMPLETED
    get = registry.get_sample_value
    assert get("host_recovery_vms_recovered_total") == 1
    assert get("host_recovery_time_to_recover_seconds_sum") == 30.0
    assert get("host_recovery_confirmation_latency_seconds_sum") == 0.5


def test_stopping_ends_a_pending_retry_with_shutting_down():
    import threading

    from listener.nova.confirmer import ShuttingDown

    waits = FakeWaits()
    waits.recovering_ids[VM] = ["ex-1"]
    confirmer = Confirmer(waits, pending_window=300.0)
    threading.Timer(0.2, confirmer.stop).start()
    started = time.monotonic()
    with pytest.raises(ShuttingDown):
        confirmer.confirm(_event())
    assert time.monotonic() - started < 60


def test_a_wait_that_evacuates_dates_its_attempt_from_its_creation():
    # the workflow's wait evacuates after Mistral created it, so it carries no accepted_at:
    # an event sent before its creation (minus Mistral's whole seconds) is an earlier attempt's
    rows = [{"id": "w1", "created_at": "2026-12-08 00:00:10",
             "input": json.dumps({"instance_id": VM, "incident_id": "inc", "source_host": "src",
                                  "attempt": 2, "instance": {"id": VM}})},
            {"id": "w2", "created_at": "2026-12-08 00:00:10",
             "input": {"instance_id": VM, "incident_id": "inc", "source_host": "src"}}]
    evacuating, plain = (waits_module._wait(row) for row in rows)
    assert evacuating is not None and evacuating.evacuates
    assert evacuating.accepted_at == datetime(2026, 12, 8, 0, 0, 10, tzinfo=UTC).timestamp()
    assert plain is not None and not plain.evacuates and plain.accepted_at is None
    waits = FakeWaits()
    waits.add("w1", VM, source_host="src", accepted_at=evacuating.accepted_at)
    error = _event(kind="error", state="error", fault="f", event_type="instance.rebuild.error")
    assert _confirmer(waits).confirm(error, sent_at=evacuating.accepted_at - 5) is Outcome.STALE
