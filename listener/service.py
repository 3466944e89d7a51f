"""The listener service: configuration, start-up checks, the oslo listeners and shutdown.

::

    conf = prepare_service(argv)          # fresh ConfigOpts, every group, logging
    ListenerService(conf).run()           # blocks until SIGTERM/SIGINT

Two paths, wired the same way (start, stop, wait): host-downs to recoveries
(listener/host_down/) and Nova's notifications to confirmed evacuations (listener/nova/,
behind [nova_notifications] enabled); plus the metrics exporter (with the failover-capacity
gauges, listener/capacity_refresher.py) and the give-back of hosts that came back
(listener/giveback.py) and the closing of stale waits (listener/wait_sweep.py). On SIGTERM
it stops consuming, lets in-flight
host-downs finish (a handler in backoff requeues at once), then exits; unacked messages go to
the other listeners.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from types import FrameType

import prometheus_client
import tenacity
from oslo_config import cfg
from oslo_log import log as logging

import listener.conf
from listener import health_probe, log_filter, status, workflow_check
from listener.capacity_refresher import CapacityRefresher
from listener.giveback import GiveBack
from listener.host_down import DeadLetters, HostDownListener
from listener.metrics import Exporter, Metrics, StatusRefresher, start_exporter
from listener.mistral_api import MistralAPI
from listener.nova import NovaEventListener
from listener.wait_sweep import WaitSweep
from notifications import conf as notifications_conf
from notifications import messaging, signing
from notifications.contract import MistralUnavailable

LOG = logging.getLogger(__name__)

__all__ = ["PROJECT", "ListenerService", "StartupError", "prepare_service"]

PROJECT = "host-recovery"


class StartupError(RuntimeError):
    """The listener must not start (workflow missing or outdated, action pack wrong...)."""


def prepare_service(argv: Sequence[str] | None = None,
                    default_config_files: Sequence[str] | None = None,
                    setup_logging: bool = True) -> cfg.ConfigOpts:
    """A fresh ConfigOpts with every group registered, our defaults set, logging set up."""
    conf = cfg.ConfigOpts()
    logging.register_options(conf)
    messaging.register_transport_opts(conf)
    notifications_conf.register_opts(conf)
    listener.conf.register_opts(conf)
    messaging.set_messaging_defaults(conf)
    conf(list(argv or []), project=PROJECT,
         default_config_files=list(default_config_files) if default_config_files else None)
    if setup_logging:
        logging.setup(conf, PROJECT)
    return conf


class ListenerService:
    """Owns the host-down path, the Nova path and the metrics exporter.

    Collaborators can be injected (tests).
    """

    def __init__(self, conf: cfg.ConfigOpts, mistral: MistralAPI | None = None,
                 dead_letters: DeadLetters | None = None) -> None:
        self.conf = conf
        self.mistral = mistral or MistralAPI.from_conf(conf)
        self.dead_letters = dead_letters or DeadLetters.from_conf(conf)
        self.metrics = Metrics(prometheus_client.CollectorRegistry())
        # no key and not allow_unsigned: ValueError, the listener refuses to start
        self.metrics.set_signing_keys(signing.keyring_from_conf(conf).key_ids)
        self.stopping = threading.Event()
        self._shutdown = threading.Event()
        self._paths: list[HostDownListener | NovaEventListener] = []
        self._exporter: Exporter | None = None
        self._refresher: StatusRefresher | None = None
        self._giveback: GiveBack | None = None
        self._capacity: CapacityRefresher | None = None
        self._wait_sweep: WaitSweep | None = None

    # -- start-up ---------------------------------------------------------------------------
    def check_workflow(self) -> None:
        """Raise StartupError unless Mistral runs our workflow and action pack.

        Mistral being unreachable is retried for [listener] retry_window first.
        """
        expected = workflow_check.expected_definition(self.conf)
        retrying = tenacity.Retrying(
            stop=(tenacity.stop_after_delay(self.conf.listener.retry_window)
                  | tenacity.stop_when_event_set(self._shutdown)),
            wait=tenacity.wait_exponential(multiplier=self.conf.listener.retry_initial_delay,
                                           max=self.conf.listener.retry_max_delay),
            retry=tenacity.retry_if_exception_type(MistralUnavailable), reraise=True,
            before_sleep=lambda s: LOG.warning("Mistral unavailable at start-up: %s",
                                               s.outcome.exception() if s.outcome else ""))
        try:
            problems = retrying(workflow_check.check, self.mistral, expected)
        except MistralUnavailable as exc:
            raise StartupError(f"Mistral unreachable: {exc}") from exc
        if problems:
            raise StartupError("; ".join(problems))

    def paths(self) -> list[HostDownListener | NovaEventListener]:
        """The consuming paths this configuration enables, host-downs first."""
        conf = self.conf
        paths: list[HostDownListener | NovaEventListener] = [HostDownListener(
            conf, self.mistral, self.dead_letters, metrics=self.metrics,
            stopping=self.stopping)]
        if conf.nova_notifications.enabled:
            # a facade of its own: [nova_notifications] http_timeout bounds each lookup
            paths.append(NovaEventListener(conf, MistralAPI.from_conf(
                conf, timeout=conf.nova_notifications.http_timeout), metrics=self.metrics))
        return paths

    def start(self) -> None:
        self.check_workflow()
        # undecodable bodies: the broker's DLX keeps them, one traceback a minute is enough
        log_filter.install()
        self._paths = self.paths()
        for path in self._paths:
            path.start()
        conf = self.conf
        if conf.metrics.enabled:
            self._exporter = start_exporter(self.metrics.registry, conf.metrics.host,
                                            conf.metrics.port)
            mistral = self.mistral
            self._refresher = StatusRefresher(
                self.metrics,
                lambda: [(i.incident_id, i.state) for i in status.collect(mistral)],
                conf.metrics.status_interval, probe=health_probe.metrics_probe(conf, mistral))
            self._refresher.start()
            if conf.capacity.enabled:
                self._capacity = CapacityRefresher(conf, self.mistral, self.metrics)
                self._capacity.start()
        if conf.giveback.enabled:
            self._giveback = GiveBack(conf, self.mistral)
            self._giveback.start()
        if conf.wait_sweep.enabled:
            self._wait_sweep = WaitSweep(conf, self.mistral)
            self._wait_sweep.start()

    # -- shutdown ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop consuming, let in-flight messages finish (bounded), release the transports."""
        LOG.info("Listener %s stopping: no new host-downs, finishing in-flight ones",
                 self.conf.listener.name)
        self.stopping.set()
        if self._giveback is not None:
            self._giveback.stop()
        if self._wait_sweep is not None:
            self._wait_sweep.stop()
        if self._capacity is not None:
            self._capacity.stop()
        for path in self._paths:
            path.stop()
        waiter = threading.Thread(target=self._wait_in_flight, daemon=True)
        waiter.start()
        waiter.join(self.conf.listener.graceful_shutdown_timeout)
        if waiter.is_alive():
            LOG.warning("In-flight host-downs did not finish within %s s; they stay "
                        "unacked and go to another listener",
                        self.conf.listener.graceful_shutdown_timeout)
            return
        if self._refresher is not None:
            self._refresher.stop()
        if self._exporter is not None:
            self._exporter.shutdown()
        LOG.info("Listener %s stopped", self.conf.listener.name)

    def _wait_in_flight(self) -> None:
        for path in self._paths:
            path.wait()

    def request_shutdown(self, signum: int = signal.SIGTERM,
                         frame: FrameType | None = None) -> None:
        self._shutdown.set()
        self.stopping.set()

    def run(self) -> None:
        """Start, serve until SIGTERM/SIGINT, stop gracefully."""
        signal.signal(signal.SIGTERM, self.request_shutdown)
        signal.signal(signal.SIGINT, self.request_shutdown)
        self.start()
        self._shutdown.wait()
        self.stop()
