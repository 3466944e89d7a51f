"""A fuzz campaign: generated bodies through the real broker to a real listener, counted.

    report = Campaign(rabbit, rabbit_url, mistral_url, workdir).run(count=800, seed=12)

Two phases, one per topic (so each phase's counts are its own): the host-down topic
(``openstack`` / ``host_recovery.info``, with a valid signed host-down after every
``VALID_EVERY`` bodies) and Nova's versioned notifications (``nova`` /
``versioned_notifications.info``, our pool queue). Each body ends in exactly one of:

* kept by the broker: the driver could not decode it, rejected it, the broker's dead-letter
  exchange (``host-recovery setup-broker``) kept it with ``x-death`` (matched byte for byte);
* dead-lettered by us (host-down topic: every fuzzed body; matched by message id);
* seen by our Nova endpoint and dropped as not ours (Nova's traffic; counted by the
  listener's ``host_recovery_notifications_consumed_total`` less our republished retries);
* acked by oslo before our code: an envelope whose priority is none of oslo's (its
  dispatcher logs ``Unknown priority`` and acks); expected 0, notifications/dispatch_guard.py
  hands those to our endpoints (and a non-string priority, on which oslo's dispatcher raises
  and requeues: counted as ``oslo_requeues``, expected 0);
* a valid host-down: its execution started.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests
from kombu.connection import Connection
from prometheus_client.parser import text_string_to_metric_families

from harness.process import free_port
from harness.rabbit import RabbitBroker
from tests.functional.broker import consumers, drain_raw, setup_broker
from tests.functional.fuzz.bodies import Body, generate
from tests.functional.listener import support

VALID_EVERY = 100
ATTEMPTS = {"internal_attempts": 3, "verify_attempts": 2}
HOST_DOWN_QUEUE, OUR_LETTERS = "host_recovery.info", "host_recovery.dead_letter"
POOL_QUEUE = "host-recovery-nova"
REPUBLISHED = re.compile(r"Message (\S+) \(incident .*\) republished to (\S+) as attempt (\d+)")


@dataclass
class Phase:
    """The counts of one topic's phase."""

    topic: str
    sent: int = 0
    valid_sent: int = 0
    valid_started: int = 0
    ours: int = 0
    kept_by_broker: int = 0
    seen_not_ours: int = 0
    acked_by_oslo: int = 0
    max_deliveries: int = 1
    #: oslo's "Exception during message handling": each one a requeue outside our bound
    oslo_requeues: int = 0
    redeliveries_metric: float = 0.0
    untraced: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accounted(self) -> int:
        return (self.valid_started + self.ours + self.kept_by_broker + self.seen_not_ours
                + self.acked_by_oslo)

    @property
    def missing(self) -> int:
        return self.sent + self.valid_sent - self.accounted

    def line(self) -> str:
        return (f"{self.topic}: sent {self.sent} (+{self.valid_sent} valid, "
                f"{self.valid_started} started), dead-lettered by us {self.ours}, kept by "
                f"the broker {self.kept_by_broker}, seen and dropped as not ours "
                f"{self.seen_not_ours}, acked by oslo before our code {self.acked_by_oslo}, "
                f"missing {self.missing}, max deliveries of one message "
                f"{self.max_deliveries}, oslo requeues {self.oslo_requeues}, listener's "
                f"host_recovery_redeliveries_total {self.redeliveries_metric:.0f} "
                f"({self.seconds:.0f} s)")


class Campaign:
    """One listener process on a test vhost prepared by ``setup-broker``."""

    def __init__(self, rabbit: RabbitBroker, rabbit_url: str, mistral_url: str,
                 workdir: Path) -> None:
        self.rabbit = rabbit
        self.rabbit_url = rabbit_url
        self.vhost = unquote(rabbit_url.rsplit("/", 1)[1])
        self.amqp = rabbit.amqp_url(self.vhost)
        self.mistral_url = mistral_url
        self.workdir = workdir
        self.port = free_port()
        self.listener: support.ListenerProcess | None = None
        self.alive_at_end = False

    def run(self, count: int, seed: int, timeout: float = 120.0) -> list[Phase]:
        done = setup_broker(self.rabbit, self.rabbit_url, self.workdir)
        assert done.returncode == 0, done.stdout + done.stderr
        workflow = support.ensure_stand_in(self.mistral_url, self.workdir / "wf.yaml")
        extra = {"listener": {"redelivery_delay": "0.05",
                              **{k: str(v) for k, v in ATTEMPTS.items()}},
                 "metrics": {"port": str(self.port)}}
        self.listener = support.ListenerProcess(self.workdir, f"fuzz-{seed}", self.rabbit_url,
                                                self.mistral_url, workflow, extra=extra)
        self.listener.start()
        try:
            phases = [self.host_down_phase(count, seed, timeout),
                      self.nova_phase(count, seed + 1, timeout)]
            self.alive_at_end = self.alive  # no crash: the same process served both phases
            return phases
        finally:
            self.listener.terminate()

    @property
    def alive(self) -> bool:
        return self.listener is not None and self.listener.alive()

    def host_down_phase(self, count: int, seed: int, timeout: float) -> Phase:
        bodies = generate(count, seed, host_down=True, signing_key="not-the-key")
        phase, began, log_mark = Phase("host-down topic", sent=len(bodies)), time.monotonic(), \
            self._log_size()
        valid = [support.incident(n, f"fuzz{seed}") for n in range(len(bodies) // VALID_EVERY)]
        phase.valid_sent = len(valid)
        pub = support.publisher(self.rabbit_url)
        with Connection(self.amqp) as conn:
            producer = conn.Producer()
            for n, body in enumerate(bodies):
                self._publish(producer, "openstack", HOST_DOWN_QUEUE, body)
                if n % VALID_EVERY == VALID_EVERY - 1:
                    support.send(pub, [support.payload(*valid[n // VALID_EVERY])])
        ids = {iid for _h, iid in valid}

        def count_now() -> bool:
            phase.ours = self._depth(OUR_LETTERS)
            phase.kept_by_broker = self._depth("host_recovery.broker_dead_letter")
            phase.acked_by_oslo = self._unknown_priority(log_mark)
            phase.valid_started = len(support.executions_for(self.mistral_url, ids))
            return phase.missing <= 0 and self._depth(HOST_DOWN_QUEUE) == 0

        self._settle(count_now, timeout, phase)
        self._trace(phase, bodies, "host_recovery.broker_dead_letter", log_mark)
        phase.seconds = time.monotonic() - began
        print(phase.line(), flush=True)
        return phase

    def nova_phase(self, count: int, seed: int, timeout: float) -> Phase:
        bodies = generate(count, seed, host_down=False, signing_key="not-the-key")
        phase, began, log_mark = Phase("Nova pool", sent=len(bodies)), time.monotonic(), \
            self._log_size()
        letters_before = self._depth(OUR_LETTERS)
        consumed_before = self.metric("host_recovery_notifications_consumed_total",
                                      source="nova")
        retries_before = self._retries(POOL_QUEUE, 0)
        # a body sent to "nova" before the pool queue is bound would be dropped unroutable
        support.wait_for(lambda: (consumers(self.amqp, POOL_QUEUE) or 0) >= 1, 30,
                         "the listener consuming the Nova pool")
        with Connection(self.amqp) as conn:
            producer = conn.Producer()
            for body in bodies:
                self._publish(producer, "nova", "versioned_notifications.info", body)

        def count_now() -> bool:
            phase.kept_by_broker = self._depth(f"{POOL_QUEUE}.broker_dead_letter")
            phase.acked_by_oslo = self._unknown_priority(log_mark)
            first = (self.metric("host_recovery_notifications_consumed_total", source="nova")
                     - consumed_before) - (self._retries(POOL_QUEUE, 0) - retries_before)
            phase.ours = self._depth(OUR_LETTERS) - letters_before
            phase.seen_not_ours = int(first) - phase.ours
            return phase.missing <= 0 and self._depth(POOL_QUEUE) == 0

        self._settle(count_now, timeout, phase)
        self._trace(phase, bodies, f"{POOL_QUEUE}.broker_dead_letter", log_mark)
        phase.seconds = time.monotonic() - began
        print(phase.line(), flush=True)
        return phase

    def metric(self, name: str, **labels: str) -> float:
        text = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=10).text
        return sum(sample.value for family in text_string_to_metric_families(text)
                   for sample in family.samples
                   if sample.name == name and labels.items() <= sample.labels.items())

    def _settle(self, settled: object, timeout: float, phase: Phase) -> None:
        assert callable(settled)
        try:
            support.wait_for(lambda: self.alive and settled(), timeout,
                             f"every body of the {phase.topic} accounted for")
        except pytest.fail.Exception as exc:
            raise AssertionError(f"{phase.line()}; listener alive: {self.alive}") from exc

    def _trace(self, phase: Phase, bodies: list[Body], broker_queue: str, log_mark: int) -> None:
        """Match what the broker kept byte for byte and our letters by message id; at most
        one letter per message; the largest attempt any message was republished as."""
        kept = Counter(body for body, _death in drain_raw(self.amqp, broker_queue))
        sent = Counter(b.raw for b in bodies)
        phase.untraced += [f"kept but never sent: {raw[:80]!r}" for raw in kept - sent]
        letters = Counter(str(body.get("original", {}).get("metadata", {}).get("message_id"))
                          for body, _headers in support.drain(self.amqp, OUR_LETTERS)
                          if isinstance(body.get("original"), dict))
        phase.untraced += [f"{mid} dead-lettered {n} times" for mid, n in letters.items()
                           if n > 1 and mid.startswith("fuzz-")]
        log = self._log(log_mark)
        attempts = [int(m.group(3)) for m in REPUBLISHED.finditer(log)]
        phase.max_deliveries = max(attempts, default=1)
        phase.oslo_requeues = log.count("Exception during message handling")
        phase.redeliveries_metric = self.metric("host_recovery_redeliveries_total")

    def _retries(self, queue: str, log_mark: int) -> int:
        return sum(1 for m in REPUBLISHED.finditer(self._log(log_mark)) if m.group(2) == queue)

    def _unknown_priority(self, log_mark: int) -> int:
        return self._log(log_mark).count("Unknown priority")

    def _log(self, mark: int) -> str:
        assert self.listener is not None
        with open(self.listener.log, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    def _log_size(self) -> int:
        assert self.listener is not None
        return self.listener.log.stat().st_size

    def _depth(self, queue: str) -> int:
        return self.rabbit.queue_depth(self.vhost, queue) or 0

    @staticmethod
    def _publish(producer: object, exchange: str, routing_key: str, body: Body) -> None:
        producer.publish(body.raw, exchange=exchange,  # type: ignore[attr-defined]
                         routing_key=routing_key, content_type="application/json",
                         content_encoding="binary")
