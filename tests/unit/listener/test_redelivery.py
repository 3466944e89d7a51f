"""Bounded retries: the attempt counter, signature and internal failures retried then
dead-lettered, every priority reaching our code, nothing secret in a detail."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from typing import Any

import pytest

from listener import service as listener_service
from listener.host_down.dead_letter import DeadLetterError
from listener.host_down.endpoint import HostDownEndpoint
from listener.host_down.service import HostDownListener
from listener.host_down.starter import Outcome, RecoveryStarter
from listener.nova.endpoint import NovaEndpoint
from listener.nova.service import settle_internal
from listener.redelivery import (
    ATTEMPT_KEY,
    PRIORITIES,
    Message,
    Redelivery,
    Settle,
    attempt_of,
    describe,
)
from notifications import confirmed, messaging
from notifications.confirmed import NotConfirmed
from notifications.host_down import (
    InvalidHostDown,
    build_payload,
    incident_id_for,
    parse_host_down,
)
from tests.unit.listener.test_recovery_starter import FakeDeadLetters, FakeMistral
from tests.unit.notifications.test_confirmed import FakeBroker
from tests.unit.nova_confirm.samples import sample

KEY = "unit-key"
EVENT = "host_recovery.host.down"


class FakeRedelivery:
    def __init__(self, confirm: bool = True) -> None:
        self.confirm = confirm
        self.republished: list[Message] = []
        self.delay = 0.0
        self.stopping = threading.Event()

    def republish(self, message: Message) -> bool:
        self.republished.append(message)
        return self.confirm


def _starter(parse: Any, redelivery: FakeRedelivery, letters: FakeDeadLetters,
             mistral: FakeMistral | None = None) -> RecoveryStarter:
    return RecoveryStarter(mistral or FakeMistral(), letters, parse,
                           workflow="host_recovery.recover_host", event_type=EVENT,
                           retry_window=0.1, retry_initial_delay=0.001, retry_max_delay=0.01,
                           redelivery=redelivery, verify_attempts=3, internal_attempts=2)


def _parse(payload: Any) -> Any:
    return parse_host_down(payload, signing_key=KEY, allow_unsigned=False, replay_window=900,
                           clock_skew=60)


def _payload(**kw: Any) -> dict[str, Any]:
    return build_payload("compute-1", incident_id=incident_id_for("compute-1", "manual@1"),
                         failure_time=dt.datetime.now(dt.UTC), reporter="unit",
                         fencing_confirmed=True, source="manual", **kw)


def _deliveries(starter: RecoveryStarter, payload: Any, redelivery: FakeRedelivery) -> int:
    """Deliver like the broker would: each republished copy comes back, until acked for good."""
    message = Message("test", EVENT, "INFO", payload, {"message_id": "m-1"})
    count = 0
    while True:
        count += 1
        before = len(redelivery.republished)
        assert starter.handle(message) is Outcome.HANDLED
        if len(redelivery.republished) == before:
            return count
        message = Message("test", EVENT, "INFO", payload, {"message_id": "m-1"},
                          message.attempt + 1)


def test_attempt_comes_from_the_context_and_garbage_is_attempt_one() -> None:
    assert attempt_of({ATTEMPT_KEY: 3}) == 3
    assert attempt_of({ATTEMPT_KEY: "2"}) == 2
    for junk in (None, {}, {ATTEMPT_KEY: "x"}, {ATTEMPT_KEY: -5}, {ATTEMPT_KEY: True},
                 {ATTEMPT_KEY: [1]}, "ctxt"):
        assert attempt_of(junk) == 1


def test_unsigned_host_down_is_offered_to_peers_then_dead_lettered() -> None:
    redelivery, letters = FakeRedelivery(), FakeDeadLetters()
    starter = _starter(_parse, redelivery, letters)
    assert _deliveries(starter, _payload(), redelivery) == 3
    assert [r[0] for r in letters.records] == ["unsigned"]
    assert [m.attempt for m in redelivery.republished] == [1, 2]


@pytest.mark.parametrize("reason", ["forged", "unknown_key", "clock"])
def test_every_unjudged_reason_is_offered_to_peers_then_dead_lettered(reason: str) -> None:
    def parse(payload: Any) -> Any:
        raise InvalidHostDown(reason, "this listener cannot judge it")

    redelivery, letters = FakeRedelivery(), FakeDeadLetters()
    assert _deliveries(_starter(parse, redelivery, letters), _payload(), redelivery) == 3
    assert [r[0] for r in letters.records] == [reason]


@pytest.mark.parametrize("reason", ["stale", "replayed"])
def test_a_judged_age_is_dead_lettered_at_once(reason: str) -> None:
    def parse(payload: Any) -> Any:
        raise InvalidHostDown(reason, "proof of death too old")

    redelivery, letters = FakeRedelivery(), FakeDeadLetters()
    assert _deliveries(_starter(parse, redelivery, letters), _payload(), redelivery) == 1
    assert [r[0] for r in letters.records] == [reason]


def test_malformed_host_down_is_dead_lettered_at_once() -> None:
    redelivery, letters = FakeRedelivery(), FakeDeadLetters()
    assert _deliveries(_starter(_parse, redelivery, letters), "junk", redelivery) == 1
    assert [r[0] for r in letters.records] == ["malformed"]


def test_unencodable_field_is_retried_then_dead_lettered_internal() -> None:
    redelivery, letters = FakeRedelivery(), FakeDeadLetters()
    payload = _payload(signing_key=KEY)
    payload["reporter"] = "bad \ud800 surrogate"  # canonical() cannot encode it
    assert _deliveries(_starter(_parse, redelivery, letters), payload, redelivery) == 2
    (reason, detail, _original), = letters.records
    assert reason == "internal"
    assert detail.startswith("UnicodeEncodeError: ")


def test_any_exception_is_bounded_and_secrets_in_urls_are_masked() -> None:
    def parse(payload: Any) -> Any:
        raise RuntimeError("proxy said 200 <html> at http://admin:s3cret@mistral:8989/v2")

    redelivery, letters = FakeRedelivery(), FakeDeadLetters()
    assert _deliveries(_starter(parse, redelivery, letters), {}, redelivery) == 2
    detail = letters.records[0][1]
    assert "s3cret" not in detail and "://***@mistral" in detail


def test_a_retry_not_confirmed_requeues_rather_than_acks() -> None:
    redelivery, letters = FakeRedelivery(confirm=False), FakeDeadLetters()
    starter = _starter(_parse, redelivery, letters)
    message = Message("test", EVENT, "INFO", _payload(), {"message_id": "m-1"})
    assert starter.handle(message) is Outcome.REQUEUE
    assert letters.records == []


def test_envelope_keeps_the_message_and_carries_the_attempt() -> None:
    message = Message("p", EVENT, "info", {"a": "\ud800"}, {"message_id": "m", "timestamp": "t"})
    body = json.loads(Redelivery.envelope(message, 2)["oslo.message"])
    assert body[f"_context_{ATTEMPT_KEY}"] == 2
    assert (body["message_id"], body["priority"], body["payload"]) == ("m", "INFO",
                                                                       {"a": "\ud800"})


def test_describe_is_bounded() -> None:
    assert len(describe(ValueError("x" * 10_000))) < 600


@pytest.mark.parametrize("priority", PRIORITIES)
def test_every_priority_reaches_our_code(priority: str) -> None:
    letters = FakeDeadLetters()
    endpoint = HostDownEndpoint(_starter(_parse, FakeRedelivery(), letters))
    result = getattr(endpoint, priority)({}, "p", "other.event", {}, {"message_id": "m"})
    assert result == messaging.handled()
    assert letters.records[0][2]["priority"] == priority.upper()


class _Boom:
    def confirm(self, event: Any, sent_at: Any = None) -> Any:
        raise ValueError("Expecting value: line 1 column 1 (char 0)")


def test_nova_endpoint_retries_an_unexpected_error_then_dead_letters_it() -> None:
    redelivery, letters = FakeRedelivery(), FakeDeadLetters()
    endpoint = NovaEndpoint(_Boom(), settle=Settle(redelivery, letters, 2))  # type: ignore[arg-type]
    msg = sample("instance-rebuild-end")
    args = (msg["publisher_id"], msg["event_type"], msg["payload"], {"message_id": "n"})
    assert endpoint.info({}, *args) == messaging.handled()
    assert len(redelivery.republished) == 1 and letters.records == []
    assert endpoint.info({ATTEMPT_KEY: 2}, *args) == messaging.handled()
    assert [r[0] for r in letters.records] == ["internal"]


def test_nova_dead_letter_not_confirmed_requeues() -> None:
    class Refusing(FakeDeadLetters):
        def publish(self, reason: str, detail: str, original: dict[str, Any]) -> None:
            raise NotConfirmed("broker away")

    endpoint = NovaEndpoint(_Boom(), settle=Settle(FakeRedelivery(), Refusing(), 1))  # type: ignore[arg-type]
    msg = sample("instance-rebuild-end")
    assert endpoint.error({}, msg["publisher_id"], msg["event_type"], msg["payload"],
                          {}) == messaging.requeue()


def test_retries_and_dead_letters_use_the_listeners_tls_options(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """[oslo_messaging_rabbit] ssl reaches our own connections, not only oslo's."""
    broker = FakeBroker(down=("h1",))
    monkeypatch.setattr(confirmed, "Connection", broker)
    conf = listener_service.prepare_service([], setup_logging=False)
    conf.set_override("transport_url", "rabbit://u:p@h1:5671/")
    conf.set_override("redelivery_delay", 0, group="listener")
    conf.set_override("ssl", True, group="oslo_messaging_rabbit")
    conf.set_override("ssl_ca_file", "/etc/ca.pem", group="oslo_messaging_rabbit")
    message = Message("p", EVENT, "INFO", {})
    nova = settle_internal(conf)
    assert not nova.redelivery.republish(message)
    with pytest.raises(DeadLetterError):
        nova.dead_letters.publish("forged", "d", {})
    host_down = HostDownListener(conf, FakeMistral(), FakeDeadLetters(), transport=object())
    assert not host_down.starter._redelivery.republish(message)
    tls = {"ca_certs": "/etc/ca.pem", "cert_reqs": ssl.CERT_REQUIRED, "server_hostname": "h1"}
    assert broker.hosts() == [("h1", tls)] * 3
