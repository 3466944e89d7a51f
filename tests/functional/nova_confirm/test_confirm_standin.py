"""Our listener on the real broker completes real Mistral async waits from the simulator's
real Nova notifications (stand-in per-VM workflow; see standin.py)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from harness.simulator import SimulatorProcess
from tests.functional.nova_confirm import standin
from tests.functional.nova_confirm.conftest import wait_for

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral]


def _evacuate(sim: SimulatorProcess, server_id: str) -> None:
    session = sim.keystone_session()
    resp = session.post(f"{sim.compute_url}/servers/{server_id}/action",
                        json={"evacuate": {}}, raise_exc=False,
                        headers={"OpenStack-API-Version": "compute 2.53"})
    assert resp.status_code == 200, resp.text


def _recover(mistral_url: str, sim: SimulatorProcess, host: str, count: int,
             pause: float = 0.0) -> list[tuple[str, str]]:
    """Start one stand-in execution per VM, then evacuate them (as the workflow would)."""
    servers = sim.control.servers(host)[:count]
    incident = str(uuid.uuid4())
    started = []
    for server in servers:
        ex = standin.start(mistral_url, instance_id=server["id"], incident_id=incident,
                           source_host=host, pause=pause)
        started.append((ex, server["id"]))
    # the execution must be RUNNING before its events arrive (as in the real workflow)
    for ex, _vm in started:
        wait_for(lambda ex=ex: standin.execution(mistral_url, ex)["state"] == "RUNNING",
                 30, f"execution {ex} running")
    if pause == 0.0:
        wait_for(lambda: len(standin.running_waits(mistral_url)) >= len(started), 30,
                 "waits registered")
    for _ex, vm in started:
        _evacuate(sim, vm)
    return started


def _confirmations(mistral_url: str, started: list[tuple[str, str]]) -> dict[str, Any]:
    out = {}
    for ex, vm in started:
        body = standin.wait_ended(mistral_url, ex, timeout=90)
        assert body["state"] == "SUCCESS", body
        out[vm] = __import__("json").loads(body["output"])["confirmation"]
    return out


def test_rebuild_end_confirms_with_destination_host(standin_mistral, nova_sim, nova_listener):
    running = nova_listener()
    nova_sim.control.fail_host("compute1", immediate=True)
    started = _recover(standin_mistral.api_url, nova_sim, "compute1", 3)
    results = _confirmations(standin_mistral.api_url, started)
    for vm, confirmation in results.items():
        server = nova_sim.control.server(vm)
        assert confirmation["result"] == "evacuated"
        assert confirmation["via"] == "notification"
        assert confirmation["host"] == server["host"] != "compute1"
        assert confirmation["fault"] is None
    assert running.metric("host_recovery_vms_recovered_total") == 3
    assert running.metric("host_recovery_confirmations_total", {"outcome": "completed"}) == 3
    assert running.metric("host_recovery_confirmation_latency_seconds_count") == 3
    assert running.metric("host_recovery_notifications_rejected_total",
                          {"source": "nova", "reason": "filtered"}) > 0


def test_events_before_their_wait_exists_are_retried(standin_mistral, nova_sim,
                                                     nova_listener):
    running = nova_listener(pending_retry_window=60.0)
    nova_sim.control.fail_host("compute2", immediate=True)
    # the wait appears ~3 s after its execution starts; Nova finishes well before that
    started = _recover(standin_mistral.api_url, nova_sim, "compute2", 2, pause=3.0)
    results = _confirmations(standin_mistral.api_url, started)
    assert {r["result"] for r in results.values()} == {"evacuated"}
    assert running.metric("host_recovery_confirmations_total", {"outcome": "completed"}) == 2
    assert running.metric("host_recovery_notifications_rejected_total",
                          {"source": "nova", "reason": "gave_up"}) == 0


def test_delayed_and_duplicated_events_change_nothing(standin_mistral, nova_sim, nova_listener,
                                                      rabbit, rabbit_url):
    # two listeners of the pool: either may take the copy of a duplicate
    first, second = nova_listener(), nova_listener()
    nova_sim.control.set_faults(notif_duplicate=1.0, notif_delay=0.5, notif_delay_seconds=1.0)
    nova_sim.control.fail_host("compute3", immediate=True)
    started = _recover(standin_mistral.api_url, nova_sim, "compute3", 4)
    results = _confirmations(standin_mistral.api_url, started)
    for vm, confirmation in results.items():
        assert confirmation["result"] == "evacuated"
        assert confirmation["host"] == nova_sim.control.server(vm)["host"]
    nova_sim.control.wait_idle(timeout=30)
    stats = nova_sim.control.notifications()["stats"]
    assert stats["duplicated"] > 0 and stats["delayed"] > 0
    vhost = unquote(rabbit_url.rsplit("/", 1)[1])
    wait_for(lambda: rabbit.queue_depth(vhost, "host-recovery-nova") == 0, 30,
             "our pool queue drained (every copy consumed)")

    def total(name, labels):
        return sum(r.metric(name, labels) for r in (first, second))

    # exactly one completion per wait; every other copy was answered without a change
    wait_for(lambda: total("host_recovery_notifications_consumed_total", {"source": "nova"})
             >= stats["published"], 30, "every published copy consumed")
    assert total("host_recovery_confirmations_total", {"outcome": "completed"}) == 4
    assert total("host_recovery_vms_recovered_total", {}) == 4


def test_rebuild_error_reports_novas_fault(standin_mistral, nova_sim, nova_listener):
    running = nova_listener()
    nova_sim.control.set_faults(rebuild_error=1.0)
    nova_sim.control.fail_host("compute4", immediate=True)
    started = _recover(standin_mistral.api_url, nova_sim, "compute4", 2)
    results = _confirmations(standin_mistral.api_url, started)
    for confirmation in results.values():
        assert confirmation["result"] == "error"
        assert confirmation["fault"]  # Nova's exception name and message
        assert confirmation["via"] == "notification"
    assert running.metric("host_recovery_vms_failed_total") == 2
    faults = {c["fault"] for c in results.values()}
    notes = nova_sim.control.notifications()["recent"]
    assert any(n["event_type"] in ("instance.rebuild.error",
                                   "compute_task.rebuild_server.error") for n in notes)
    # Nova's exception and message, as the simulator's rebuild.error / conductor error carry
    assert all("Virtual Interface creation failed" in f or "No valid host" in f
               for f in faults), faults


def test_unrelated_instances_are_not_retried(standin_mistral, nova_sim, nova_listener):
    running = nova_listener(pending_retry_window=60.0)
    nova_sim.control.fail_host("compute1", immediate=True)
    vm = nova_sim.control.servers("compute1")[0]["id"]
    _evacuate(nova_sim, vm)  # no recovery of ours runs for it (someone evacuated by hand)
    wait_for(lambda: running.metric("host_recovery_notifications_rejected_total",
                                    {"source": "nova", "reason": "unrelated"}) >= 1,
             30, "the event dropped as unrelated")
    assert requests.get(f"{standin_mistral.api_url}/workbooks", timeout=5).ok
