"""Nova's notifications from the simulator process on a real RabbitMQ, consumed by an
oslo.messaging notification listener on exchange ``nova``, topic ``versioned_notifications``."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from novaclient import client as nova_client
from oslo_config import cfg

from notifications import messaging
from tests.fixtures.simulator import FAST
from tests.unit.simulator.samples import PUBLISHERS, differences, load_samples
from tests.waiting import wait_for

pytestmark = pytest.mark.rabbit


class Recorder:
    """Endpoint keeping (publisher_id, event_type, priority, payload) in arrival order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, dict]] = []
        self._lock = threading.Lock()

    def _keep(self, priority, publisher_id, event_type, payload):
        with self._lock:
            self.events.append((publisher_id, event_type, priority, payload))

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._keep("INFO", publisher_id, event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._keep("ERROR", publisher_id, event_type, payload)

    def of(self, instance_uuid):
        with self._lock:
            return [e for e in self.events
                    if instance_uuid in (e[3]["nova_object.data"].get("uuid"),
                                         e[3]["nova_object.data"].get("instance_uuid"))]


@pytest.fixture
def recorder(rabbit_url: str) -> Iterator[Recorder]:
    """A listener (own pool queue) started before the simulator publishes anything."""
    conf = cfg.ConfigOpts()
    messaging.register_transport_opts(conf)
    conf([])
    transport = messaging.notification_transport(conf, url=rabbit_url)
    endpoint = Recorder()
    listener = messaging.notification_listener(
        transport, [messaging.target("versioned_notifications", exchange="nova")], [endpoint],
        pool="simulator-test")
    listener.start()
    yield endpoint
    listener.stop()
    listener.wait()
    transport.cleanup()


def test_evacuation_notifications_order_and_samples(recorder, rabbit_url,
                                                    simulator_process_factory):
    sim = simulator_process_factory({**FAST, "states": {"active": 1.0}}, rabbit_url)
    nova = nova_client.Client("2.94", session=sim.keystone_session())
    servers = nova.servers.list(search_opts={"host": "compute1", "all_tenants": 1})
    ok, stopped, broken = servers[0], servers[1], servers[2]
    nova.servers.stop(stopped)
    wait_for(lambda: nova.servers.get(stopped.id).status == "SHUTOFF", 20, "stop")
    sim.control.fail_host("compute1")
    (service,) = nova.services.list(host="compute1", binary="nova-compute")
    nova.services.force_down(service.id, True)
    nova.servers.evacuate(ok)
    nova.servers.evacuate(stopped)
    wait_for(lambda: sim.control.health()["idle"], 20, "evacuations done")
    sim.control.set_faults(rebuild_error=1.0)
    nova.servers.evacuate(broken)

    wait_for(lambda: [e for e in recorder.of(broken.id) if e[1] == "instance.update"], 20,
             "rebuild error notifications")
    wait_for(lambda: any(e[1] == "service.update" for e in recorder.events), 20,
             "service.update")
    dest = getattr(nova.servers.get(ok.id), "OS-EXT-SRV-ATTR:host")
    assert [(e[0], e[1]) for e in recorder.of(ok.id)] == [
        ("nova-api:controller", "instance.evacuate"),
        (f"nova-conductor:{dest}", "instance.rebuild_scheduled"),
        (f"nova-compute:{dest}", "instance.rebuild.start"),
        (f"nova-compute:{dest}", "instance.rebuild.end"),
        (f"nova-compute:{dest}", "instance.update"),
    ]
    assert [e[1] for e in recorder.of(stopped.id)] == [
        "instance.power_off.start", "instance.power_off.end", "instance.evacuate",
        "instance.rebuild_scheduled", "instance.rebuild.start", "instance.power_off.start",
        "instance.power_off.end", "instance.rebuild.end", "instance.update"]
    assert [(e[1], e[2]) for e in recorder.of(broken.id)][-2:] == [
        ("instance.rebuild.error", "ERROR"), ("instance.update", "INFO")]

    samples = load_samples()
    problems = []
    for publisher_id, event_type, priority, payload in recorder.events:
        sample = samples[event_type]
        allowed = PUBLISHERS.get(event_type, {sample["publisher_id"].split(":")[0]})
        if publisher_id.split(":")[0] not in allowed or priority != sample["priority"]:
            problems.append(f"{event_type}: {publisher_id} {priority}")
        problems += [f"{event_type}: {d}" for d in differences(payload, sample["payload"])]
    assert problems == [], "\n".join(problems)
    stats = sim.control.notifications()["stats"]
    assert stats["published"] == stats["emitted"] == len(recorder.events)


def test_dropped_and_duplicated_notifications(recorder, rabbit_url, simulator_process_factory):
    sim = simulator_process_factory(FAST, rabbit_url)
    nova = nova_client.Client("2.53", session=sim.keystone_session())
    (service,) = nova.services.list(host="compute3", binary="nova-compute")
    sim.control.set_faults(notif_duplicate=1.0)
    nova.services.disable(service.id)
    wait_for(lambda: len(recorder.events) == 2, 20, "duplicated service.update")
    sim.control.set_faults(notif_duplicate=0.0, notif_drop=1.0)
    nova.services.enable(service.id)
    sim.control.set_faults(notif_drop=0.0)
    nova.services.force_down(service.id, True)
    wait_for(lambda: len(recorder.events) == 3, 20, "service.update after the drop")
    assert [e[3]["nova_object.data"]["forced_down"] for e in recorder.events] == [
        False, False, True]
    assert sim.control.notifications()["stats"]["dropped"] == 1
