"""Agents publish host-downs over TLS when [oslo_messaging_rabbit] ssl is on, as oslo would."""

import ssl

import pytest

from agents import service
from notifications import confirmed
from notifications.publisher import PublishError
from tests.unit.notifications.test_confirmed import FakeBroker


def _conf(tmp_path, rabbit=""):
    conf_file = tmp_path / "c.conf"
    conf_file.write_text("[publisher]\ntransport_url = rabbit://u:p@h1:5671,u:p@h2:5671/\n"
                         "total_timeout = 0\n[oslo_messaging_rabbit]\n" + rabbit)
    return service.prepare(["--config-file", str(conf_file)])


def _publish(conf):
    with pytest.raises(PublishError, match="ConnectionRefusedError"):
        service.make_publisher(conf).publish(dict, event_type="e", publisher_id="p")


def test_make_publisher_connects_with_the_oslo_ssl_options(monkeypatch, tmp_path):
    broker = FakeBroker(down=("h1", "h2"))
    monkeypatch.setattr(confirmed, "Connection", broker)
    _publish(_conf(tmp_path, "ssl = true\nssl_ca_file = /etc/ca.pem\n"
                             "ssl_cert_file = /etc/me.pem\nssl_key_file = /etc/me.key\n"))
    tls = {"ca_certs": "/etc/ca.pem", "cert_reqs": ssl.CERT_REQUIRED,
           "certfile": "/etc/me.pem", "keyfile": "/etc/me.key"}
    assert broker.hosts() == [("h1", {**tls, "server_hostname": "h1"}),
                              ("h2", {**tls, "server_hostname": "h2"})]


def test_make_publisher_stays_plain_amqp_without_ssl(monkeypatch, tmp_path):
    broker = FakeBroker(down=("h1", "h2"))
    monkeypatch.setattr(confirmed, "Connection", broker)
    _publish(_conf(tmp_path, "ssl_ca_file = /etc/ca.pem\n"))
    assert broker.hosts() == [("h1", False), ("h2", False)]
