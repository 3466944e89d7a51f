"""A third-party monitor's oslo Notifier (messagingv2) is a valid host-down producer."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications import host_down, messaging
from tests.functional.notifications.test_publisher import _conf, _listener

pytestmark = pytest.mark.rabbit


def test_oslo_notifier_host_down_is_accepted_by_parse_host_down(rabbit_url: str) -> None:
    conf = _conf()
    with _listener(rabbit_url, conf) as collector:
        # What docs/agents.md tells a third-party monitor to do:
        transport = messaging.notification_transport(conf, url=rabbit_url)
        notifier = messaging.notifier(transport, "zabbix.monitor-1", ["host_recovery"])
        now = dt.datetime.now(dt.UTC)
        payload = host_down.build_payload(
            "compute-9", incident_id=host_down.incident_id_for(
                "compute-9", f"manual@{host_down.format_time(now)}"),
            failure_time=now, reporter="zabbix@monitor-1", fencing_confirmed=False,
            source="zabbix", on_shared_storage=True, signing_key="third-party-key")
        notifier.info({}, "host_recovery.host.down", payload)
        publisher_id, event_type, received = collector.received.get(timeout=30)
        transport.cleanup()
    assert (publisher_id, event_type) == ("zabbix.monitor-1", "host_recovery.host.down")
    event = host_down.parse_host_down(received, signing_key="third-party-key",
                                      allow_unsigned=False, replay_window=900,
                                      clock_skew=60)
    assert event.workflow_input()["search_opts"] == {"host": "compute-9"}
    assert event.on_shared_storage is True
