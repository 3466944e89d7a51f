"""``host-recovery health`` on the real broker and Mistral: a dead letter, a stuck incident.

The dead letter goes through the real CLI (exit status and line); the stuck incident is a
real Mistral execution whose only task waits (an async action nobody completes), judged
with the clock moved past [health] stuck_after (no test waits 30 minutes). A lost task start
is that execution's task put back to IDLE in Mistral's database, the row Mistral 23 leaves
when its engine dies or its database restarts as the task starts (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
import uuid
from pathlib import Path

import requests
from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

from harness.mistral import MistralServer
from listener import incident_health, status
from listener.mistral_api import MistralAPI
from notifications.publisher import parse_transport_url
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[3]
OPERATOR_BIN = REPO / ".venv" / "bin" / "host-recovery"
WAITING = """---
version: '2.0'
health_test.waits_forever:
  tasks:
    wait:
      action: std.async_noop
"""


def _health(config: Path) -> tuple[int, list[str]]:
    done = subprocess.run([str(OPERATOR_BIN), "--config-file", str(config), "health",
                           "--timeout", "5"], check=False, capture_output=True, text=True,
                          timeout=120)
    return done.returncode, done.stdout.splitlines()


def test_a_dead_letter_is_warning_then_growth_is_critical(rabbit_url: str,
                                                          mistral: MistralServer,
                                                          tmp_path: Path) -> None:
    queue = f"health-test-dl-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "host-recovery.conf"
    config.write_text(f"[DEFAULT]\ntransport_url = {rabbit_url}\n"
                      f"[mistral]\nauth_type = none\nendpoint_override = {mistral.api_url}\n"
                      f"[host_down]\nsigning_key = k\n[listener]\ndead_letter_queue = {queue}\n"
                      f"[health]\nstate_file = {tmp_path / 'state.json'}\n")
    code, lines = _health(config)
    assert f"OK dead_letters: {queue} 0" in lines, lines
    with Connection(parse_transport_url(rabbit_url)) as conn:
        target = Queue(queue, exchange=Exchange(""), routing_key=queue, durable=True)
        Producer(conn.channel()).publish({"reason": "forged"}, routing_key=queue,
                                         declare=[target], serializer="json")
    code, lines = _health(config)
    dead = [line for line in lines if " dead_letters: " in line]
    assert dead and dead[0].startswith(f"CRITICAL dead_letters: {queue} 1: +1 in "), lines
    assert code == 2
    code, lines = _health(config)  # not growing any more: still a WARNING to read
    assert f"WARNING dead_letters: {queue} 1 (not growing: read, then purge)" in lines
    assert code >= 1


def _waiting_execution(mistral: MistralServer) -> tuple[MistralAPI, str, status.Incident]:
    url = mistral.api_url
    resp = requests.get(f"{url}/workflows/health_test.waits_forever", timeout=30)
    if resp.status_code == 404:
        resp = requests.post(f"{url}/workflows", data=WAITING,
                             headers={"Content-Type": "text/plain"}, timeout=30)
        assert resp.status_code == 201, resp.text
    api = MistralAPI.from_url(url)
    execution = requests.post(f"{url}/executions", json={
        "workflow_name": "health_test.waits_forever"}, timeout=30).json()
    wait_for(lambda: any(t["state"] == "RUNNING" for t in api.list_tasks(
        workflow_execution_id=execution["id"])), timeout=60)
    fresh = api.get_execution(execution["id"])
    incident = status.Incident(incident_id="inc-stuck", execution_id=execution["id"],
                               host="compute-9", attempt=1, state="running",
                               created_at=fresh["created_at"], updated_at=fresh["updated_at"])
    return api, execution["id"], incident


def test_an_execution_without_progress_is_stuck(mistral: MistralServer) -> None:
    url = mistral.api_url
    api, execution_id, incident = _waiting_execution(mistral)
    now = dt.datetime.now(dt.UTC)
    assert incident_health.assess(api, 1800, now=now, incidents=[incident]).stuck == []
    later = incident_health.assess(api, 1800, now=now + dt.timedelta(hours=1),
                                   incidents=[incident], idle_task_after=120)
    assert [s.incident_id for s in later.stuck] == ["inc-stuck"]
    assert later.stuck[0].detail == "1 task(s) running"  # running, not a lost start
    assert later.oldest_age >= 3600
    requests.put(f"{url}/executions/{execution_id}", json={"state": "ERROR"}, timeout=30)


def test_a_task_mistral_never_started_is_stuck_after_idle_task_after(
        mistral: MistralServer) -> None:
    api, execution_id, incident = _waiting_execution(mistral)
    with contextlib.closing(sqlite3.connect(mistral.workdir / "mistral.sqlite",
                                            timeout=30)) as db, db:
        changed = db.execute("UPDATE task_executions_v2 SET state = 'IDLE' "
                             "WHERE workflow_execution_id = ?", (execution_id,)).rowcount
    assert changed == 1
    now = dt.datetime.now(dt.UTC)
    assert incident_health.assess(api, 1800, now=now, incidents=[incident],
                                  idle_task_after=120).stuck == []
    later = incident_health.assess(api, 1800, now=now + dt.timedelta(seconds=150),
                                   incidents=[incident], idle_task_after=120)
    assert [(s.incident_id, s.detail.split(",")[0]) for s in later.stuck] == [
        ("inc-stuck", "task(s) wait IDLE")]
    assert 120 <= later.stuck[0].idle_for < 300
    requests.put(f"{mistral.api_url}/executions/{execution_id}", json={"state": "ERROR"},
                 timeout=30)
