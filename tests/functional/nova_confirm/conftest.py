"""Fixtures: the stand-in workflow in the session's Mistral, a simulator on a fresh vhost,
and our NovaEventListener consuming that vhost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import prometheus_client
import pytest
from oslo_config import cfg

from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from listener import conf as listener_conf_module
from listener.metrics import Metrics
from listener.mistral_api import MistralAPI
from listener.nova import NovaEventListener
from notifications import conf as notifications_conf
from notifications import messaging
from tests.functional.nova_confirm import standin
from tests.waiting import wait_for

__all__ = ["Running", "wait_for"]

FAST = {"hosts": 4, "vms_per_host": 4,
        "latency": {"kind": "fixed", "value": 0.05},
        "power_latency": {"kind": "fixed", "value": 0.02}}


@pytest.fixture(scope="session")
def standin_mistral(mistral: MistralServer) -> MistralServer:
    standin.register(mistral.api_url)
    return mistral


@pytest.fixture
def nova_sim(simulator_process_factory: Callable[..., SimulatorProcess],
             rabbit_url: str) -> SimulatorProcess:
    return simulator_process_factory(FAST, rabbit_url)


class Running:
    """A started listener with its metrics registry."""

    def __init__(self, listener: NovaEventListener, registry: Any) -> None:
        self.listener = listener
        self.registry = registry

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0


def listener_conf(transport_url: str, **overrides: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    messaging.register_transport_opts(conf)
    # every listener group: the Nova path's bounded retry reads [listener] and [host_down]
    listener_conf_module.register_opts(conf)
    notifications_conf.register_opts(conf)
    conf([], project="host-recovery-test")
    conf.set_override("transport_url", transport_url)
    conf.set_override("rabbit_qos_prefetch_count", 8, group="oslo_messaging_rabbit")
    # as the listener service does for host-downs; Nova's side stays non-durable
    conf.set_override("amqp_durable_queues", True, group="oslo_messaging_rabbit")
    conf.set_override("wait_action", standin.WAIT_ACTION, group="nova_notifications")
    conf.set_override("instance_workflow", standin.WORKFLOW, group="nova_notifications")
    for key, value in overrides.items():
        conf.set_override(key, value, group="nova_notifications")
    return conf


@pytest.fixture
def nova_listener(standin_mistral: MistralServer, rabbit_url: str
                  ) -> Iterator[Callable[..., Running]]:
    started: list[NovaEventListener] = []

    def start(**overrides: Any) -> Running:
        registry = prometheus_client.CollectorRegistry()
        listener = NovaEventListener(listener_conf(rabbit_url, **overrides),
                                     MistralAPI.from_url(standin_mistral.api_url),
                                     metrics=Metrics(registry))
        listener.start()
        started.append(listener)
        return Running(listener, registry)

    yield start
    for listener in started:
        listener.stop()
    for listener in started:
        stopper = threading.Thread(target=listener.wait, daemon=True)
        stopper.start()
        stopper.join(timeout=30)

