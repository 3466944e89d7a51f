"""Publisher helpers: transport URL parsing, oslo-compatible queue arguments and TLS
options, envelope."""

import json
import types

import pytest
from oslo_config import cfg

from notifications import messaging
from notifications.confirmed import ssl_for
from notifications.publisher import (
    envelope,
    kombu_ssl,
    oslo_queue_arguments,
    parse_transport_url,
)


def test_parse_transport_url_gives_one_kombu_url_per_host():
    assert parse_transport_url("rabbit://u:p@h1:5671,v:q@h2:5672/vh") == [
        "amqp://u:p@h1:5671/vh", "amqp://v:q@h2:5672/vh"]
    assert parse_transport_url("rabbit://u:p@h1:5672/") == ["amqp://u:p@h1:5672/%2F"]
    assert parse_transport_url("rabbit://u:p@h1:5672") == ["amqp://u:p@h1:5672/%2F"]
    assert parse_transport_url("rabbit://u:p@h1:5672/%2F") == ["amqp://u:p@h1:5672/%2F"]
    assert parse_transport_url("rabbit://u:p@h1:5672/a%2Fb") == ["amqp://u:p@h1:5672/a%2Fb"]
    with pytest.raises(ValueError, match="scheme"):
        parse_transport_url("kafka://h:9092")


def _rabbit_conf(**overrides):
    conf = cfg.ConfigOpts()
    conf([])
    messaging.register_transport_opts(conf)
    for name, value in overrides.items():
        conf.set_override(name, value, "oslo_messaging_rabbit")
    return conf


@pytest.mark.parametrize(("overrides"), [
    {},
    {"rabbit_ha_queues": True},
    {"rabbit_quorum_queue": True},
    {"rabbit_quorum_queue": True, "rabbit_quorum_delivery_limit": 5,
     "rabbit_quorum_max_memory_length": 100, "rabbit_quorum_max_memory_bytes": 4096},
])
def test_queue_arguments_equal_what_oslo_computes(overrides):
    conf = _rabbit_conf(**overrides)
    from oslo_messaging._drivers import impl_rabbit  # oslo's own computation, as reference

    group = conf.oslo_messaging_rabbit
    quorum_conf = impl_rabbit.QuorumMemConfig(group.rabbit_quorum_delivery_limit,
                                              group.rabbit_quorum_max_memory_length,
                                              group.rabbit_quorum_max_memory_bytes)
    expected = impl_rabbit._get_queue_arguments(group.rabbit_ha_queues, 0,
                                                group.rabbit_quorum_queue, quorum_conf, False)
    assert oslo_queue_arguments(group) == expected


def _oslo_ssl_params(conf, transport_url):
    """What oslo's rabbit driver passes kombu as ``ssl`` for ``transport_url``."""
    import oslo_messaging
    from oslo_messaging._drivers import impl_rabbit  # oslo's own computation, as reference

    group = conf.oslo_messaging_rabbit
    url = oslo_messaging.TransportURL.parse(conf, transport_url)
    # _fetch_ssl_params reads only these attributes, set by oslo's Connection.__init__
    # (which connects, so a stand-in self)
    driver = types.SimpleNamespace(
        ssl=group.ssl, ssl_version=group.ssl_version, ssl_key_file=group.ssl_key_file,
        ssl_cert_file=group.ssl_cert_file, ssl_ca_file=group.ssl_ca_file,
        ssl_server_hostname=impl_rabbit.Connection._get_ssl_server_hostname(url),
        validate_ssl_version=impl_rabbit.Connection.validate_ssl_version)
    return impl_rabbit.Connection._fetch_ssl_params(driver)


@pytest.mark.parametrize(("overrides"), [
    {},
    {"ssl_ca_file": "/etc/ca.pem"},  # files without ssl: plain AMQP
    {"ssl": True},
    {"ssl": True, "ssl_ca_file": "/etc/ca.pem"},
    {"ssl": True, "ssl_ca_file": "/etc/ca.pem", "ssl_cert_file": "/etc/me.pem",
     "ssl_key_file": "/etc/me.key"},
    {"ssl": True, "ssl_cert_file": "/etc/me.pem", "ssl_key_file": "/etc/me.key"},
    {"ssl": True, "ssl_ca_file": "/etc/ca.pem", "ssl_version": "TLSv1_2"},
])
def test_ssl_options_equal_what_oslo_computes(overrides):
    conf = _rabbit_conf(**overrides)
    ours = kombu_ssl(conf.oslo_messaging_rabbit)
    # one broker: oslo names it; ours is named per connection (ssl_for), the same name
    (url,) = parse_transport_url("rabbit://u:p@rabbit-1:5671/")
    assert ssl_for(url, ours) == _oslo_ssl_params(conf, "rabbit://u:p@rabbit-1:5671/")
    # several: oslo leaves the name to kombu (None) like ours
    assert ours == _oslo_ssl_params(conf, "rabbit://u:p@rabbit-1:5671,u:p@rabbit-2:5671/")


def test_ssl_with_several_brokers_verifies_each_one_by_its_own_name():
    ours = kombu_ssl(_rabbit_conf(ssl=True, ssl_ca_file="/etc/ca.pem").oslo_messaging_rabbit)
    urls = parse_transport_url("rabbit://u:p@rabbit-1:5671,u:p@rabbit-2:5671/")
    assert [ssl_for(url, ours)["server_hostname"] for url in urls] == ["rabbit-1", "rabbit-2"]


def test_an_unknown_ssl_version_is_refused_like_oslo_does():
    conf = _rabbit_conf(ssl=True, ssl_version="TLSv9")
    with pytest.raises(ValueError, match="ssl_version 'TLSv9'"):
        kombu_ssl(conf.oslo_messaging_rabbit)
    with pytest.raises(RuntimeError, match="Invalid SSL version"):
        _oslo_ssl_params(conf, "rabbit://u:p@rabbit-1:5671/")


def test_envelope_is_oslo_v2():
    env = envelope({"a": 1}, event_type="e", publisher_id="p", message_id="m")
    assert env["oslo.version"] == "2.0"
    message = json.loads(env["oslo.message"])
    assert message["payload"] == {"a": 1}
    assert (message["event_type"], message["priority"], message["message_id"]) == (
        "e", "INFO", "m")
