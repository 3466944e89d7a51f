"""Permanent failures are dead-lettered, transient ones retried without a hot loop, a killed
listener's message is handled by another; a listener refuses an unknown workflow."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from pathlib import Path

import pytest

from harness.mistral import MistralServer
from harness.rabbit import RabbitBroker
from notifications.host_down import build_payload
from tests.functional.listener import support

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral]


def _vhost(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_invalid_host_downs_are_dead_lettered_while_valid_ones_start(
        rabbit: RabbitBroker, rabbit_url: str, own_mistral: MistralServer,
        tmp_path: Path) -> None:
    mistral = own_mistral  # its own: the session Mistral runs the real gate for others
    workflow_file = support.ensure_stand_in(mistral.api_url, tmp_path / "wf.yaml")
    listeners = [support.ListenerProcess(tmp_path, f"dl-{i}", rabbit_url, mistral.api_url,
                                         workflow_file) for i in range(2)]
    for listener in listeners:
        listener.start()
    valid = [support.incident(n, "dl") for n in range(5)]
    bad = [support.incident(n, "dl-bad") for n in range(5)]
    malformed = support.payload(*bad[0])
    del malformed["reporter"]
    unsigned = support.payload(*bad[1], signed=False)
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    # late (listeners were down) with a recent proof of death: starts, logged as late
    late = support.payload(*valid[4], sent_at=two_hours_ago)
    # late and its proof of death older than [host_down] stale_after: kept as stale
    stale = build_payload(bad[2][0], incident_id=bad[2][1], failure_time=two_hours_ago,
                          reporter="test", fencing_confirmed=True, source="manual",
                          signing_key=support.SIGNING_KEY, sent_at=two_hours_ago)
    forged = support.payload(*bad[3])
    forged["fencing_confirmed"] = False  # changed after signing
    pub = support.publisher(rabbit_url)
    try:
        support.send(pub, [support.payload(*valid[0]), malformed, support.payload(*valid[1]),
                           unsigned, support.payload(*valid[2]), stale, forged,
                           support.payload(*valid[3]), late])
        support.send(pub, [support.payload(*bad[4])], event_type="compute.instance.create")
        # wait on what is asserted: the records in the queue, the executions in Mistral
        support.wait_for(lambda: (rabbit.queue_depth(_vhost(rabbit_url),
                                                     "host_recovery.dead_letter") or 0) >= 5
                         and len(support.executions_for(
                             mistral.api_url, {iid for _h, iid in valid})) >= 5,
                         60, "5 dead letters and 5 executions")
        letters = support.drain(rabbit.amqp_url(_vhost(rabbit_url)),
                                "host_recovery.dead_letter")
        executions = support.executions_for(mistral.api_url,
                                            {iid for _h, iid in valid + bad})
        assert rabbit.queue_depth(_vhost(rabbit_url), "host_recovery.info") == 0
    finally:
        for listener in listeners:
            listener.terminate()

    assert {e["id"] for e in executions} == {iid for _h, iid in valid}
    by_incident = {body["original"]["payload"]["incident_id"]: (body, headers)
                   for body, headers in letters}
    assert len(letters) == 5
    expected = {bad[0][1]: ("malformed", "reporter"), bad[1][1]: ("unsigned", "signature"),
                bad[2][1]: ("stale", "stale_after"), bad[3][1]: ("forged", "signature"),
                bad[4][1]: ("malformed", "event_type")}
    for iid, (reason, field) in expected.items():
        body, headers = by_incident[iid]
        assert body["reason"] == reason
        assert field in body["detail"]
        assert headers["x-host-recovery-reason"] == reason
        assert body["listener"] in ("dl-0", "dl-1")
        assert body["original"]["publisher_id"] == "test"
        assert set(body["original"]) == {"publisher_id", "event_type", "priority",
                                         "payload", "metadata"}
    assert by_incident[bad[4][1]][0]["original"]["event_type"] == "compute.instance.create"
    late_lines = [line for lst in listeners for line in lst.lines("Late host-down")]
    assert len(late_lines) == 1 and valid[4][1] in late_lines[0]
    for listener in listeners:  # the signing key never reaches a log line
        assert support.SIGNING_KEY not in listener.text()


def test_mistral_down_for_10_s_every_incident_starts_once_back_without_hot_loop(
        rabbit: RabbitBroker, rabbit_url: str, own_mistral: MistralServer,
        tmp_path: Path) -> None:
    window = 3
    workflow_file = support.ensure_stand_in(own_mistral.api_url, tmp_path / "wf.yaml")
    listeners = [support.ListenerProcess(tmp_path, f"md-{i}", rabbit_url,
                                         own_mistral.api_url, workflow_file,
                                         retry_window=window) for i in range(2)]
    for listener in listeners:
        listener.start()
    incidents = [support.incident(n, "md") for n in range(20)]
    ids = {iid for _h, iid in incidents}
    try:
        own_mistral.stop()
        down_at = time.monotonic()
        support.send(support.publisher(rabbit_url),
                     [support.payload(h, iid) for h, iid in incidents])
        # the outage itself is the scenario: Mistral stays away for 10 s
        support.wait_for(lambda: time.monotonic() - down_at >= 10, 20, "10 s of outage",
                         interval=0.5)
        own_mistral.start()
        downtime = time.monotonic() - down_at
        support.wait_for(lambda: len(support.executions_for(own_mistral.api_url, ids)) == 20,
                         120, "20 executions after Mistral is back")
        support.wait_for(lambda: sum(len(lst.lines("Recovery accepted"))
                                     for lst in listeners) >= 20, 60, "20 accepted")
        assert rabbit.queue_depth(_vhost(rabbit_url), "host_recovery.info") == 0
    finally:
        for listener in listeners:
            listener.terminate()

    deliveries = {iid: 0 for iid in ids}
    for listener in listeners:
        for line in listener.lines(r"Host-down for incident"):
            deliveries[re.search(r"incident (\S+)", line).group(1)] += 1  # type: ignore[union-attr]
    requeues = sum(len(lst.lines("Requeuing incident")) for lst in listeners)
    attempts = sum(len(lst.lines("Transient failure for incident")) for lst in listeners)
    accepted = sum(len(lst.lines("Recovery accepted")) for lst in listeners)
    print(f"downtime {downtime:.1f} s, deliveries {sum(deliveries.values())}, requeues "
          f"{requeues}, retry attempts {attempts}, accepted {accepted}")
    assert accepted == 20  # each incident started exactly once after the outage
    assert requeues >= 1  # the outage outlasted the retry window: requeue path exercised
    # no hot loop: one redelivery per retry window at most, per message
    max_deliveries = int(downtime // window) + 2
    assert max(deliveries.values()) <= max_deliveries, deliveries
    assert sum(deliveries.values()) == 20 + requeues
    # backoff: attempts per delivery are bounded by the exponential steps in one window
    assert attempts <= sum(deliveries.values()) * 6


def test_listener_killed_while_handling_another_one_starts_the_execution(
        rabbit_url: str, own_mistral: MistralServer, tmp_path: Path) -> None:
    workflow_file = support.ensure_stand_in(own_mistral.api_url, tmp_path / "wf.yaml")
    listeners = [support.ListenerProcess(tmp_path, f"k-{i}", rabbit_url,
                                         own_mistral.api_url, workflow_file)
                 for i in range(2)]
    for listener in listeners:
        listener.start()
    host, iid = support.incident(1, "kill")
    try:
        own_mistral.stop()  # handling now blocks in backoff: observable, deterministic
        support.send(support.publisher(rabbit_url), [support.payload(host, iid)])
        busy = support.wait_for(
            lambda: [lst for lst in listeners if lst.lines(f"Transient failure for incident "
                                                          f"{iid}")], 30, "a busy listener")
        victim = busy[0]
        survivor = next(lst for lst in listeners if lst is not victim)
        assert not survivor.lines(f"Host-down for incident {iid}")
        victim.kill()
        support.wait_for(lambda: survivor.lines(f"Host-down for incident {iid}"), 30,
                         "redelivery to the survivor")
        own_mistral.start()
        support.wait_for(lambda: survivor.lines(f"Recovery accepted for incident {iid}"),
                         90, "the survivor to start the execution")
        executions = support.executions_for(own_mistral.api_url, {iid})
    finally:
        for listener in listeners:
            listener.terminate()
    assert [e["id"] for e in executions] == [iid]
    assert not victim.lines("Recovery accepted")


def test_listener_refuses_to_start_without_the_workflow(
        rabbit_url: str, mistral: MistralServer, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(support.STAND_IN.replace("host_recovery.recover_host",
                                              "host_recovery.not_there"))
    listener = support.ListenerProcess(tmp_path, "refuse", rabbit_url, mistral.api_url,
                                       other)
    done = subprocess.run([str(support.LISTENER_BIN), "--config-file", str(listener.config)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "host_recovery.not_there is missing" in done.stderr
    assert "workflow sync" in done.stderr
