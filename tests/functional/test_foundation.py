"""The real components the whole suite stands on: RabbitMQ and Mistral, really used."""

from __future__ import annotations

import json
import queue
from typing import Any

import pytest
import requests
from oslo_config import cfg

from harness.mistral import MistralServer
from host_recovery_actions import PACK_VERSION
from notifications import messaging
from tests.waiting import wait_for


class _Collector:
    """A notification endpoint that hands what it receives to the test."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: dict[str, Any],
             metadata: Any) -> Any:
        self.received.put((publisher_id, event_type, payload))
        return messaging.handled()


@pytest.mark.rabbit
def test_notification_round_trip_through_the_real_broker(rabbit_url: str) -> None:
    conf = cfg.ConfigOpts()
    conf([], project="host-recovery-test")
    transport = messaging.notification_transport(conf, url=rabbit_url)
    collector = _Collector()
    listener = messaging.notification_listener(
        transport, [messaging.target("hr_foundation")], [collector])
    listener.start()
    try:
        sender = messaging.notifier(transport, "test:here", ["hr_foundation"])
        sender.info({}, "host_recovery.test", {"n": 1})
        publisher, event_type, payload = collector.received.get(timeout=30)
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
    assert (publisher, event_type, payload) == ("test:here", "host_recovery.test", {"n": 1})


HELLO = """---
version: '2.0'
host_recovery.foundation_check:
  tasks:
    pack:
      action: host_recovery.version
      publish:
        pack_version: <% task().result.pack_version %>
"""


def _wait_for_execution(api: str, execution_id: str, timeout: float) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        execution: dict[str, Any] = requests.get(f"{api}/executions/{execution_id}",
                                                 timeout=10).json()
        return execution if execution["state"] in ("SUCCESS", "ERROR") else None

    found: dict[str, Any] = wait_for(ended, timeout, f"execution {execution_id}", 0.2)
    return found


@pytest.mark.mistral
def test_mistral_runs_a_workflow_with_our_action_pack_over_rabbitmq(
        mistral: MistralServer) -> None:
    assert mistral.transport_url.startswith("rabbit://")
    resp = requests.post(f"{mistral.api_url}/workflows", data=HELLO,
                         headers={"Content-Type": "text/plain"}, timeout=30)
    assert resp.status_code == 201, resp.text
    resp = requests.post(f"{mistral.api_url}/executions", timeout=30, json={
        "workflow_name": "host_recovery.foundation_check", "id": "foundation-check-1"})
    assert resp.status_code == 201, resp.text
    execution = _wait_for_execution(mistral.api_url, "foundation-check-1", timeout=60)
    assert execution["state"] == "SUCCESS", execution.get("state_info")
    assert json.loads(execution["output"]) == {"pack_version": PACK_VERSION}
