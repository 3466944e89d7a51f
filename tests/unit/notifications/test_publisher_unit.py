"""Publisher helpers: transport URL parsing, oslo-compatible queue arguments, envelope."""

import json

import pytest
from oslo_config import cfg

from notifications import messaging
from notifications.publisher import envelope, oslo_queue_arguments, parse_transport_url


def test_parse_transport_url_gives_one_kombu_url_per_host():
    assert parse_transport_url("rabbit://u:p@h1:5671,v:q@h2:5672/vh") == [
        "amqp://u:p@h1:5671/vh", "amqp://v:q@h2:5672/vh"]
    assert parse_transport_url("rabbit://u:p@h1:5672/") == ["amqp://u:p@h1:5672/%2F"]
    assert parse_transport_url("rabbit://u:p@h1:5672") == ["amqp://u:p@h1:5672/%2F"]
    assert parse_transport_url("rabbit://u:p@h1:5672/%2F") == ["amqp://u:p@h1:5672/%2F"]
    assert parse_transport_url("rabbit://u:p@h1:5672/a%2Fb") == ["amqp://u:p@h1:5672/a%2Fb"]
    with pytest.raises(ValueError, match="scheme"):
        parse_transport_url("kafka://h:9092")


@pytest.mark.parametrize(("overrides"), [
    {},
    {"rabbit_ha_queues": True},
    {"rabbit_quorum_queue": True},
    {"rabbit_quorum_queue": True, "rabbit_quorum_delivery_limit": 5,
     "rabbit_quorum_max_memory_length": 100, "rabbit_quorum_max_memory_bytes": 4096},
])
def test_queue_arguments_equal_what_oslo_computes(overrides):
    conf = cfg.ConfigOpts()
    conf([])
    messaging.register_transport_opts(conf)
    for name, value in overrides.items():
        conf.set_override(name, value, "oslo_messaging_rabbit")
    from oslo_messaging._drivers import impl_rabbit  # oslo's own computation, as reference

    group = conf.oslo_messaging_rabbit
    quorum_conf = impl_rabbit.QuorumMemConfig(group.rabbit_quorum_delivery_limit,
                                              group.rabbit_quorum_max_memory_length,
                                              group.rabbit_quorum_max_memory_bytes)
    expected = impl_rabbit._get_queue_arguments(group.rabbit_ha_queues, 0,
                                                group.rabbit_quorum_queue, quorum_conf, False)
    assert oslo_queue_arguments(group) == expected


def test_envelope_is_oslo_v2():
    env = envelope({"a": 1}, event_type="e", publisher_id="p", message_id="m")
    assert env["oslo.version"] == "2.0"
    message = json.loads(env["oslo.message"])
    assert message["payload"] == {"a": 1}
    assert (message["event_type"], message["priority"], message["message_id"]) == (
        "e", "INFO", "m")
