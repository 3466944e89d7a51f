"""Listeners as separate processes, a stand-in workflow, and host-down senders for tests."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests
from kombu.connection import Connection

from harness import listener as harness_listener
from notifications.host_down import build_payload, incident_id_for
from tests.waiting import wait_for

__all__ = ["incident_id_for", "wait_for"]
from notifications.publisher import Publisher, QueueSpec, parse_transport_url

REPO = Path(__file__).resolve().parents[3]
LISTENER_BIN = REPO / ".venv" / "bin" / "host-recovery-listener"
OPERATOR_BIN = REPO / ".venv" / "bin" / "host-recovery"
SIGNING_KEY = "functional-test-key"
WORKFLOW = "host_recovery.recover_host"

#: Same name and input as the real workflow; ends at once (counting executions is the point).
STAND_IN = """---
version: '2.0'
host_recovery.recover_host:
  input:
    - search_opts
    - on_shared_storage: null
    - incident_id
    - fencing_confirmed: false
    - fencing_evidence: null
    - failure_time: null
    - reporter: null
    - source: null
    - attempt: 1
  tasks:
    done:
      action: std.noop
"""


def ensure_stand_in(api_url: str, path: Path) -> Path:
    """Put the stand-in workflow in Mistral and write it to ``path``.

    The session's Mistral is shared: a workflow or capacity test run before may have left the
    real workflow under the same name, which the listener's start-up check would refuse.
    """
    path.write_text(STAND_IN)
    headers = {"Content-Type": "text/plain"}
    resp = requests.get(f"{api_url}/workflows/{WORKFLOW}", timeout=30)
    if resp.status_code == 404:
        resp = requests.post(f"{api_url}/workflows", data=STAND_IN, headers=headers,
                             timeout=30)
        assert resp.status_code == 201, resp.text
    elif resp.json().get("definition") != STAND_IN:
        resp = requests.put(f"{api_url}/workflows", data=STAND_IN, headers=headers,
                            timeout=30)
        assert resp.status_code == 200, resp.text
    return path


class ListenerProcess(harness_listener.ListenerProcess):
    """The harness's listener process, signing key and Mistral stand-in set for these tests."""

    def __init__(self, workdir: Path, name: str, transport_url: str, mistral_url: str,
                 workflow_file: Path, retry_window: int = 60,
                 extra: dict[str, dict[str, str]] | None = None) -> None:
        super().__init__(workdir, name, transport_url, mistral_url, workflow_file,
                         signing_key=SIGNING_KEY, retry_window=retry_window, extra=extra)


def incident(n: int, tag: str) -> tuple[str, str]:
    """(host, incident id) of test incident ``n``."""
    host = f"compute-{tag}-{n}"
    return host, incident_id_for(host, f"manual@{n}")


def payload(host: str, incident_id: str, *, signed: bool = True,
            sent_at: dt.datetime | None = None) -> dict[str, Any]:
    return build_payload(host, incident_id=incident_id,
                         failure_time=dt.datetime.now(dt.UTC), reporter="test",
                         fencing_confirmed=True, source="manual",
                         signing_key=SIGNING_KEY if signed else None, sent_at=sent_at)


def publisher(transport_url: str, routing_key: str = "host_recovery.info") -> Publisher:
    return Publisher(parse_transport_url(transport_url), exchange="openstack",
                     routing_key=routing_key, queue=QueueSpec(durable=True, declare=True))


def send(pub: Publisher, payloads: Iterable[dict[str, Any]],
         event_type: str = "host_recovery.host.down") -> None:
    for body in payloads:
        pub.publish(functools.partial(dict, body), event_type=event_type, publisher_id="test")


def executions_for(api_url: str, incident_ids: set[str]) -> list[dict[str, Any]]:
    """Every execution of the workflow whose id or input.incident_id is one of ours."""
    resp = requests.get(f"{api_url}/executions", timeout=30,
                        params={"workflow_name": WORKFLOW, "limit": "1000"})
    resp.raise_for_status()
    found = []
    for execution in resp.json()["executions"]:
        execution_input = json.loads(execution.get("input") or "{}")
        if (execution["id"] in incident_ids
                or execution_input.get("incident_id") in incident_ids):
            found.append(execution)
    return found


def drain(amqp_url: str, queue: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every message now in ``queue`` as (body, headers), acked (basic.get: no declare)."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with Connection(amqp_url) as conn:
        channel = conn.default_channel
        while True:
            message = channel.basic_get(queue=queue, no_ack=False)
            if message is None:
                return out
            headers = dict(message.properties.get("application_headers") or {})
            out.append((json.loads(message.body), headers))
            channel.basic_ack(message.delivery_tag)
