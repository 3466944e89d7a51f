"""RecoveryStarter on fakes: dead-letter, idempotent start, bounded retry then requeue."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import prometheus_client

from listener.attempts import execution_id
from listener.host_down.dead_letter import DeadLetterError
from listener.host_down.starter import Message, Outcome, RecoveryStarter
from listener.metrics import Metrics
from notifications.contract import MistralRejected, MistralUnavailable
from notifications.host_down import build_payload, incident_id_for, parse_host_down

KEY = "unit-key"
EVENT = "host_recovery.host.down"


class FakeMistral:
    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.executions: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def start_execution(self, execution_id: str, workflow: str,
                        workflow_input: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.executions.setdefault(execution_id, {
            "id": execution_id, "workflow_name": workflow, "input": workflow_input,
            "state": "RUNNING"})


class FakeDeadLetters:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def publish(self, reason: str, detail: str, original: dict[str, Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise DeadLetterError("broker away")
        self.records.append((reason, detail, original))


def _parse(payload: Any) -> Any:
    return parse_host_down(payload, signing_key=KEY, allow_unsigned=False, replay_window=900,
                           clock_skew=60, stale_after=3600)


def _starter(mistral: FakeMistral, letters: FakeDeadLetters, window: float = 5.0,
             stopping: threading.Event | None = None) -> RecoveryStarter:
    return RecoveryStarter(mistral, letters, _parse, workflow="host_recovery.recover_host",
                           event_type=EVENT, retry_window=window, retry_initial_delay=0.001,
                           retry_max_delay=0.01, stopping=stopping)


def _message(payload: Any, event_type: str = EVENT) -> Message:
    return Message("test", event_type, "INFO", payload, {"message_id": "m-1"})


def _payload(host: str = "compute-1", **kw: Any) -> dict[str, Any]:
    failure_time = kw.pop("failure_time", dt.datetime.now(dt.UTC))
    return build_payload(host, incident_id=incident_id_for(host, "manual@1"),
                         failure_time=failure_time, reporter="unit",
                         fencing_confirmed=True, source="manual", signing_key=KEY, **kw)


def test_valid_host_down_starts_one_execution_per_incident_with_its_id() -> None:
    mistral, letters = FakeMistral(), FakeDeadLetters()
    starter = _starter(mistral, letters)
    payload = _payload()
    assert starter.handle(_message(payload)) is Outcome.HANDLED
    assert starter.handle(_message(payload)) is Outcome.HANDLED
    assert list(mistral.executions) == [payload["incident_id"]]
    assert mistral.executions[payload["incident_id"]]["input"]["attempt"] == 1
    assert letters.records == []


def test_invalid_host_downs_are_dead_lettered_with_reason_and_original() -> None:
    mistral, letters = FakeMistral(), FakeDeadLetters()
    starter = _starter(mistral, letters)
    forged = _payload()
    forged["fencing_confirmed"] = False
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    stale = _payload(sent_at=two_hours_ago, failure_time=two_hours_ago)
    for message in (_message(forged), _message(stale), _message("junk"),
                    _message(_payload(), event_type="other.event")):
        assert starter.handle(message) is Outcome.HANDLED
    assert [r[0] for r in letters.records] == ["forged", "stale", "malformed", "malformed"]
    assert "stale_after" in letters.records[1][1]
    assert "event_type" in letters.records[3][1]
    assert letters.records[0][2]["payload"] == forged
    assert mistral.calls == 0


def test_late_host_down_starts_its_execution_once_and_is_counted() -> None:
    mistral, letters = FakeMistral(), FakeDeadLetters()
    metrics = Metrics(prometheus_client.CollectorRegistry())
    starter = RecoveryStarter(mistral, letters, _parse, workflow="host_recovery.recover_host",
                              event_type=EVENT, retry_window=5.0, metrics=metrics)
    # listeners were down for an hour: the first delivery is already late
    late = _payload(sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    for _ in range(2):  # a replay finds the same execution (its id is the incident id)
        assert starter.handle(_message(late)) is Outcome.HANDLED
    assert list(mistral.executions) == [late["incident_id"]]
    assert letters.records == []
    assert metrics.registry.get_sample_value("host_recovery_late_host_downs_total") == 2


def test_transient_failures_are_retried_then_succeed() -> None:
    mistral = FakeMistral([MistralUnavailable("down"), MistralUnavailable("down")])
    assert _starter(mistral, FakeDeadLetters()).handle(_message(_payload())) is Outcome.HANDLED
    assert mistral.calls == 3


def test_persistent_failure_requeues_after_the_window_not_before() -> None:
    mistral = FakeMistral([MistralUnavailable("down")] * 10_000)
    starter = _starter(mistral, FakeDeadLetters(), window=0.3)
    assert starter.handle(_message(_payload())) is Outcome.REQUEUE
    assert 2 <= mistral.calls < 200  # backed off, not a hot loop


def test_rejection_is_never_acked_it_is_requeued() -> None:
    mistral = FakeMistral([MistralRejected(404, "Workflow not found")] * 10_000)
    starter = _starter(mistral, FakeDeadLetters(), window=0.1)
    assert starter.handle(_message(_payload())) is Outcome.REQUEUE


def test_dead_letter_publish_failure_requeues_instead_of_acking() -> None:
    letters = FakeDeadLetters(failures=10_000)
    starter = _starter(FakeMistral(), letters, window=0.1)
    assert starter.handle(_message("junk")) is Outcome.REQUEUE
    assert letters.records == []


def test_shutdown_cuts_the_backoff_short() -> None:
    stopping = threading.Event()
    stopping.set()
    mistral = FakeMistral([MistralUnavailable("down")] * 10)
    starter = _starter(mistral, FakeDeadLetters(), window=3600, stopping=stopping)
    assert starter.handle(_message(_payload())) is Outcome.REQUEUE
    assert mistral.calls == 1


def test_rerun_execution_ids_follow_the_design() -> None:
    incident = incident_id_for("compute-1", "manual@1")
    assert execution_id(incident, 1) == incident
    assert execution_id(incident, 2) != incident
    assert len(execution_id(incident, 2)) == 36
