"""Assemble the simulator: the cloud, workers, notifier, the five WSGI apps and servers.

Usage::

    sim = Simulator(Scenario.from_dict({"hosts": 3}), transport_url="rabbit://...")
    sim.start()                       # binds 127.0.0.1 ports (0 = any free port)
    print(sim.urls())                 # {"auth_url": ..., "compute": ..., "control": ...}
    sim.stop()
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from simulator.api.admin import AdminAPI
from simulator.api.control import ControlApp
from simulator.api.glance import GlanceApp
from simulator.api.keystone import KeystoneApp
from simulator.api.nova import NovaApp
from simulator.api.placement import PlacementApp
from simulator.api.servers import ServersAPI
from simulator.api.wsgi import LoggedApp, Router
from simulator.builder import build_cloud
from simulator.compute import ComputeActions
from simulator.evacuation import Evacuator
from simulator.faults import Dice
from simulator.http import HttpServer
from simulator.identity import Identity
from simulator.messaging import NovaNotifier, SendFn
from simulator.notifier import NotificationQueue
from simulator.requestlog import RequestLog
from simulator.scenario import Scenario
from simulator.worker import DelayedExecutor

LOG = logging.getLogger(__name__)


def _discard(publisher_id: str, event_type: str, priority: str,
             payload: dict[str, Any]) -> None:
    LOG.debug("no transport: %s %s not published", publisher_id, event_type)


class Simulator:
    """One simulated region; ``send`` overrides the broker (unit tests pass a list sink)."""

    def __init__(self, scenario: Scenario, transport_url: str | None = None,
                 send: SendFn | None = None, bind: str = "127.0.0.1",
                 ports: dict[str, int] | None = None, threads: int = 16) -> None:
        self.scenario = scenario
        self.cloud = build_cloud(scenario)
        self.dice = Dice(scenario.faults, scenario["latency"], scenario["power_latency"],
                         int(scenario["seed"]))
        self.delayer = DelayedExecutor()
        self._broker: NovaNotifier | None = None
        if send is None and transport_url:
            self._broker = NovaNotifier(transport_url)
            send = self._broker.send
        self.notifications = NotificationQueue(send or _discard, self.dice, self.delayer)
        self.identity = Identity(scenario["credentials"], self.cloud.projects,
                                 scenario["region"], float(scenario["token_ttl"]))
        self.actions = ComputeActions(self.cloud, self.dice, self.notifications, self.delayer)
        self.evacuator = Evacuator(self.cloud, self.dice, self.notifications, self.delayer)
        self.requests = RequestLog()
        router = Router()
        ServersAPI(self.cloud, self.evacuator, self.actions).register(router)
        AdminAPI(self.cloud, self.actions).register(router)
        self.apps = {
            "identity": LoggedApp(KeystoneApp(self.identity).handle, "identity",
                                  self.requests),
            "compute": LoggedApp(NovaApp(self.identity, self.dice, router), "compute",
                                 self.requests),
            "image": LoggedApp(GlanceApp(self.cloud, self.identity), "image", self.requests),
            "placement": LoggedApp(PlacementApp(self.cloud, self.identity), "placement",
                                   self.requests),
            "control": ControlApp(self),
        }
        self._bind = bind
        self._ports = dict(ports or {})
        self._threads = threads
        self.servers: dict[str, HttpServer] = {}

    def start(self) -> None:
        """Bind and serve every app; the catalog then names the real ports."""
        for name, app in self.apps.items():
            threads = 4 if name == "control" else self._threads
            server = HttpServer(app, self._bind, self._ports.get(name, 0), threads, name)
            server.start()
            self.servers[name] = server
        urls = self.urls()
        self.identity.add_endpoint("identity", "keystone", urls["auth_url"])
        self.identity.add_endpoint("compute", "nova", urls["compute"])
        self.identity.add_endpoint("image", "glance", urls["image"])
        self.identity.add_endpoint("placement", "placement", urls["placement"])

    def urls(self) -> dict[str, str]:
        """auth_url (Keystone v3), compute (Nova /v2.1), image (Glance), placement,
        control."""
        base = {name: f"http://{self._bind}:{server.port}"
                for name, server in self.servers.items()}
        return {"auth_url": f"{base['identity']}/v3", "identity": base["identity"],
                "compute": f"{base['compute']}/v2.1", "compute_root": base["compute"],
                "image": base["image"], "placement": base["placement"],
                "control": base["control"]}

    def idle(self) -> bool:
        """No evacuation or power change pending and every notification handed over."""
        return self.delayer.pending == 0 and self.notifications.stats()["queued"] == 0

    def stop(self) -> None:
        """Stop serving, drop pending background work, flush notifications, disconnect."""
        # In parallel: each server may wait up to its shutdown_timeout for keep-alive clients.
        stoppers = [threading.Thread(target=server.stop) for server in self.servers.values()]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        self.delayer.stop()
        self.notifications.stop()
        if self._broker is not None:
            self._broker.close()
