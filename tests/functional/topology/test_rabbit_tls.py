"""TLS to RabbitMQ (amqps): a test CA made with openssl, a broker with a TLS listener, and
through it an oslo.messaging notifier and listener (what our listener, Mistral and Nova use)
and our own kombu connections (agents' host-downs; the listener's retries, dead letters and
health checks share ``notifications.confirmed.connect``).

The settings are the ones docs/operations.md gives for production. About 25 s.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import oslo_messaging
import pytest
import requests
from oslo_config import cfg

from agents import service as agent_service
from harness.process import free_port
from harness.rabbit import PASSWORD, USER, RabbitBroker
from notifications.confirmed import connect
from notifications.publisher import PublishError, kombu_ssl, parse_transport_url
from tests.waiting import wait_for

pytestmark = [pytest.mark.rabbit]


def make_ca(path: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it (openssl, 2048-bit RSA)."""
    files = {name: path / name for name in ("ca.key", "ca.pem", "server.key", "server.csr",
                                              "server.pem", "san.cnf")}
    files["san.cnf"].write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    for argv in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
         "/CN=host-recovery test CA", "-keyout", files["ca.key"], "-out", files["ca.pem"]],
        ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", files["server.key"], "-out", files["server.csr"]],
        ["x509", "-req", "-in", files["server.csr"], "-CA", files["ca.pem"], "-CAkey",
         files["ca.key"], "-CAcreateserial", "-days", "2", "-extfile", files["san.cnf"],
         "-out", files["server.pem"]],
    ):
        subprocess.run(["openssl", *map(str, argv)], check=True, capture_output=True)
    for key in ("ca.key", "server.key"):
        files[key].chmod(0o644)  # the broker runs as us, but keep it readable for beam
    return files


class TlsBroker(RabbitBroker):
    """A RabbitBroker with a TLS listener beside its plain one."""

    def __init__(self, workdir: Path, certs: dict[str, Path]) -> None:
        super().__init__(workdir)
        self.tls_port = free_port()
        self.certs = certs

    def _write_config(self) -> None:
        super()._write_config()
        conf = self.workdir / "rabbitmq.conf"
        conf.write_text(conf.read_text() + (
            f"listeners.ssl.default = 127.0.0.1:{self.tls_port}\n"
            f"ssl_options.cacertfile = {self.certs['ca.pem']}\n"
            f"ssl_options.certfile = {self.certs['server.pem']}\n"
            f"ssl_options.keyfile = {self.certs['server.key']}\n"
            "ssl_options.verify = verify_peer\n"
            "ssl_options.fail_if_no_peer_cert = false\n"
            "ssl_options.versions.1 = tlsv1.3\n"
            "ssl_options.versions.2 = tlsv1.2\n"))


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    root = tmp_path_factory.mktemp("tls")
    broker = TlsBroker(root / "rabbit", make_ca(root))
    broker.start()
    yield broker
    broker.stop()


def _conf(ca: Path) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf([], project="test")
    oslo_messaging.get_notification_transport(conf, url="rabbit://")  # registers the options
    conf.set_override("ssl", True, group="oslo_messaging_rabbit")
    conf.set_override("ssl_ca_file", str(ca), group="oslo_messaging_rabbit")
    return conf


class _Endpoint:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
             metadata: Any) -> None:
        self.seen.append(payload)


def test_oslo_messaging_over_amqps_with_the_test_ca(tls_broker: TlsBroker) -> None:
    url = f"rabbit://{USER}:{PASSWORD}@127.0.0.1:{tls_broker.tls_port}/"
    conf = _conf(tls_broker.certs["ca.pem"])
    transport = oslo_messaging.get_notification_transport(conf, url=url)
    endpoint = _Endpoint()
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic="tls_test")], [endpoint], executor="threading")
    listener.start()
    try:
        notifier = oslo_messaging.Notifier(transport, driver="messagingv2", topics=["tls_test"],
                                           publisher_id="test")
        notifier.info({}, "tls.check", {"over": "tls"})
        wait_for(lambda: endpoint.seen == [{"over": "tls"}], timeout=30,
                 what="the notification sent over TLS")
        # the broker's view: every client connection is a TLS one, on the TLS port
        connections = wait_for(lambda: _connections(tls_broker), timeout=30,
                               what="the broker to list the connections")
        assert {(c["ssl"], c["port"]) for c in connections} == {(True, tls_broker.tls_port)}
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()


def _connections(broker: TlsBroker) -> list[dict[str, Any]]:
    resp = requests.get(f"http://127.0.0.1:{broker.http_port}/api/connections",
                        auth=(USER, PASSWORD), timeout=10)
    resp.raise_for_status()
    found: list[dict[str, Any]] = resp.json()
    return found


def test_a_client_without_the_ca_is_refused(tls_broker: TlsBroker) -> None:
    """The system CAs do not know the test CA: the handshake fails; with it, it succeeds."""
    context = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", tls_broker.tls_port), timeout=10) as sock, \
            pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(sock, server_hostname="127.0.0.1")
    context.load_verify_locations(str(tls_broker.certs["ca.pem"]))
    with socket.create_connection(("127.0.0.1", tls_broker.tls_port), timeout=10) as sock, \
            context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def _agent_conf(tmp_path: Path, broker: TlsBroker, ca: Path | None) -> cfg.ConfigOpts:
    """An agent's configuration as docs/operations.md gives it: TLS port, ssl, the CA."""
    ini = tmp_path / "agent.conf"
    ini.write_text(
        "[publisher]\n"
        f"transport_url = rabbit://{USER}:{PASSWORD}@127.0.0.1:{broker.tls_port}/\n"
        "declare_queue = true\ntotal_timeout = 0\n"
        "[host_down]\nexchange = tls_host_recovery\ntopic = tls_host_recovery\n"
        "signing_key = functional-key\n"
        "[oslo_messaging_rabbit]\nssl = true\n" + (f"ssl_ca_file = {ca}\n" if ca else ""))
    return agent_service.prepare(["--config-file", str(ini)])


def _send(conf: cfg.ConfigOpts) -> str:
    return agent_service.send_host_down(conf, "compute-1", incident_id="tls-1",
                                        failure_time=dt.datetime.now(dt.UTC),
                                        fencing_confirmed=False, source="manual")


def test_agents_publish_host_downs_over_amqps(tls_broker: TlsBroker, tmp_path: Path) -> None:
    conf = _agent_conf(tmp_path, tls_broker, tls_broker.certs["ca.pem"])
    message_id = _send(conf)  # confirmed, or PublishError
    # read it back through the connection every one of our kombu paths opens, and look at
    # that connection from the broker's side while it is open
    urls = parse_transport_url(agent_service.transport_url(conf))
    with connect(urls, ssl=kombu_ssl(conf.oslo_messaging_rabbit), transport_options={
            "client_properties": {"connection_name": "tls-reader"}}) as conn:
        message = conn.default_channel.basic_get("tls_host_recovery.info", no_ack=True)
        assert message is not None
        sent = json.loads(json.loads(message.body)["oslo.message"])
        assert (sent["message_id"], sent["event_type"]) == (message_id,
                                                            conf.host_down.event_type)
        ours = wait_for(lambda: [c for c in _connections(tls_broker)
                                 if c.get("user_provided_name") == "tls-reader"],
                        timeout=30, what="the broker to list our connection", interval=0.5)
        assert [(c["ssl"], c["port"]) for c in ours] == [(True, tls_broker.tls_port)]


def test_an_agent_without_the_ca_is_refused(tls_broker: TlsBroker, tmp_path: Path) -> None:
    """ssl = true without ssl_ca_file verifies against the system CAs: not the test CA."""
    conf = _agent_conf(tmp_path, tls_broker, ca=None)
    with pytest.raises(PublishError, match="certificate verify failed"):
        _send(conf)
