"""Confirmed publishing's connections: one per broker, each with TLS options of its own."""

from __future__ import annotations

import ssl
import urllib.parse
from typing import Any

import pytest
from kombu.entity import Exchange, Queue

from notifications import confirmed
from notifications.confirmed import NotConfirmed, connect, publish_confirmed, ssl_for

CA = {"ca_certs": "/etc/ca.pem", "cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None}


class FakeBroker:
    """Stands in for kombu's Connection class: records every connection's URL and ``ssl``.

    Brokers whose host is in ``down`` refuse; the others answer passive declares with
    ``depths`` (a queue not in it does not exist).
    """

    def __init__(self, down: tuple[str, ...] = (), depths: dict[str, int] | None = None
                 ) -> None:
        self.down = set(down)
        self.depths = depths or {}
        self.opened: list[tuple[str, Any]] = []
        self.released = 0

    def __call__(self, url: str, *, ssl: Any, connect_timeout: float,
                 transport_options: dict[str, Any]) -> FakeConnection:
        self.opened.append((url, ssl))
        return FakeConnection(self, url)

    def hosts(self) -> list[tuple[str | None, Any]]:
        """(host, ssl) of each connection opened, in order."""
        return [(urllib.parse.urlsplit(url).hostname, options) for url, options in self.opened]


class FakeChannel:
    is_open = True

    def __init__(self, depths: dict[str, int]) -> None:
        self.depths = depths

    def queue_declare(self, name: str, passive: bool) -> Any:
        assert passive
        return type("Declared", (), {"message_count": self.depths[name]})()

    def close(self) -> None:
        self.is_open = False


class FakeConnection:
    channel_errors = (KeyError,)

    def __init__(self, broker: FakeBroker, url: str) -> None:
        self.broker, self.url = broker, url

    def ensure_connection(self, max_retries: int) -> FakeConnection:
        assert max_retries == 0  # one attempt per broker: the callers own the backoff
        if urllib.parse.urlsplit(self.url).hostname in self.broker.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return self

    def channel(self) -> FakeChannel:
        return FakeChannel(self.broker.depths)

    def release(self) -> None:
        self.broker.released += 1

    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> FakeBroker:
    fake = FakeBroker(down=("h1", "h2"))
    monkeypatch.setattr(confirmed, "Connection", fake)
    return fake


def test_ssl_for_names_each_broker_and_never_touches_the_callers_options() -> None:
    assert ssl_for("amqp://u:p@h1:5671/%2F", False) is False
    assert ssl_for("amqp://u:p@h1:5671/%2F", True) is True
    options = dict(CA)
    assert ssl_for("amqp://u:p@Rabbit-1.example:5671/%2F", options) == {
        **CA, "server_hostname": "rabbit-1.example"}
    assert ssl_for("amqp://u:p@[::1]:5671/%2F", options)["server_hostname"] == "::1"
    assert options == CA
    # set on purpose (or absent: no CA, nothing verified): left as it is
    assert ssl_for("amqp://h1/", {**CA, "server_hostname": "rabbit"}) == {
        **CA, "server_hostname": "rabbit"}
    assert ssl_for("amqp://h1/", {"certfile": "c"}) == {"certfile": "c"}


def test_connect_tries_each_broker_with_its_own_name(broker: FakeBroker) -> None:
    broker.down = {"h1"}
    conn = connect(["amqp://u:p@h1:5671/%2F", "amqp://u:p@h2:5671/%2F"], ssl=CA)
    assert conn.url == "amqp://u:p@h2:5671/%2F"
    assert [(host, options["server_hostname"]) for host, options in broker.hosts()] == [
        ("h1", "h1"), ("h2", "h2")]
    assert broker.released == 1  # the refused one


def test_connect_raises_the_last_error_when_no_broker_answers(broker: FakeBroker) -> None:
    with pytest.raises(ConnectionRefusedError):
        connect(["amqp://h1/", "amqp://h2/"], ssl=True)
    assert broker.hosts() == [("h1", True), ("h2", True)]
    assert broker.released == 2
    with pytest.raises(ValueError, match="no broker"):
        connect([])


def test_publish_confirmed_connects_with_the_ssl_options(broker: FakeBroker) -> None:
    exchange = Exchange("openstack", type="topic")
    queue = Queue("q", exchange=exchange, routing_key="q")
    with pytest.raises(NotConfirmed, match="ConnectionRefusedError"):
        publish_confirmed(["amqp://h1/", "amqp://h2/"], exchange, queue, {}, ssl=CA)
    assert [options for _, options in broker.hosts()] == [
        {**CA, "server_hostname": "h1"}, {**CA, "server_hostname": "h2"}]
    with pytest.raises(NotConfirmed):
        publish_confirmed("amqp://h1/", exchange, queue, {})
    assert broker.hosts()[-1] == ("h1", False)  # plain AMQP stays the default
