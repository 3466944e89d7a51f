"""The main job end to end, as `make demo` runs it: every part real and in its own process.

Simulator (Nova + Keystone) → host fails → ``host-recovery-notify`` publishes the host-down
with broker confirms → two listener processes compete for it → Mistral 23 runs our workflow
and actions → Nova's notifications confirm each VM → our own notifications reach a dashboard.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg

from harness.stack import Stack, StackOptions
from listener.mistral_api import MistralAPI
from listener.status import Incident, collect
from notifications import messaging, recovery_events
from tests.waiting import wait_for

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral, pytest.mark.slow]

HOST = "compute1"


class _Dashboard:
    """A consumer of our recovery notifications in a pool of its own (a copy of the stream)."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: dict[str, Any],
             metadata: Any) -> Any:
        self.events.put((event_type, payload))
        return messaging.handled()

    error = info

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        return found


def _listen(url: str, dashboard: _Dashboard) -> Any:
    conf = cfg.ConfigOpts()
    messaging.register_transport_opts(conf)
    messaging.set_messaging_defaults(conf)
    conf([], project="host-recovery-test")
    transport = messaging.notification_transport(conf, url=url)
    listener = messaging.notification_listener(
        transport, [messaging.target("host_recovery_events", "openstack")], [dashboard],
        pool="test-dashboard")
    listener.start()
    return listener


def test_a_failed_host_recovers_through_the_whole_chain(tmp_path: Path) -> None:
    options = StackOptions(
        hosts=3, vms_per_host=6, listeners=2,
        latency={"kind": "uniform", "low": 0.5, "high": 1.5},
        scenario={"states": {"active": 0.7, "stopped": 0.3}, "server_groups": [],
                  "metadata": [{"weight": 1.0, "metadata": {}}]})
    with Stack(tmp_path / "stack", options) as stack:
        assert stack.simulator is not None and stack.mistral is not None
        dashboard = _Dashboard()
        dash_listener = _listen(stack.cloud_url, dashboard)
        try:
            before = {vm["id"]: vm for vm in stack.simulator.control.servers(HOST)}
            assert len(before) == 6
            stack.simulator.control.fail_host(HOST, immediate=True)
            incident_id = stack.notify_host_down(HOST)
            api = MistralAPI.from_url(stack.mistral.api_url)

            def ended() -> Incident | None:
                found = collect(api, incident=incident_id)
                return found[-1] if found and found[-1].state not in ("running",
                                                                     "held") else None

            incident: Incident = wait_for(ended, 240, f"incident {incident_id} to end", 0.5)
            assert incident.state == "done", incident.reason
            assert incident.counts["evacuated"] == 6
            after = {vm["id"]: vm for vm in stack.simulator.control.servers()}
            for vm_id, vm in before.items():
                assert after[vm_id]["host"] != HOST
                assert after[vm_id]["status"] == vm["status"]  # original state kept
            # exactly one listener started the recovery (competing consumers, one execution)
            accepted = [line for lst in stack.listeners
                        for line in lst.lines(f"Recovery accepted for incident {incident_id}")]
            assert len(accepted) == 1
            # Nova's notifications confirmed the VMs (the wait action's output says how)
            by_rebuild_end = r"wait \S+ of instance .* by instance\.rebuild\.end"
            confirmed = [line for lst in stack.listeners for line in lst.lines(by_rebuild_end)]
            assert confirmed, "no listener confirmed a VM from Nova's notifications"
            # our own notifications reached the dashboard, valid against their schema
            seen: list[tuple[str, dict[str, Any]]] = []

            def incident_end_seen() -> bool:
                seen.extend(dashboard.drain())
                return any(t == "host_recovery.incident.end" for t, _ in seen)

            wait_for(incident_end_seen, 60, "host_recovery.incident.end")
            types = [event_type for event_type, _ in seen]
            assert "host_recovery.incident.start" in types
            assert types.count("host_recovery.instance.evacuated") == 6
            for event_type, payload in seen:
                recovery_events.validate(event_type, payload)
        finally:
            dash_listener.stop()
            dash_listener.wait()
