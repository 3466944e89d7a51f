"""The broker policy of ``host-recovery setup-broker`` (docs/operations.md) bounds our pool
queue while no listener consumes, what ``drop-head`` drops is kept (bounded) by the pool's
broker dead-letter queue, and the listener still declares and drains the queue under it (a
policy, unlike queue arguments, cannot make oslo's declaration fail)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

from bench.nova_filter import _publish
from harness.rabbit import RabbitBroker
from tests.functional.broker import setup_broker
from tests.functional.nova_confirm.conftest import Running, wait_for

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral]

POOL = "host-recovery-nova"


def test_policy_bounds_the_pool_queue_while_listeners_are_down(
        rabbit: RabbitBroker, rabbit_url: str, nova_listener: Callable[..., Running],
        tmp_path: Path) -> None:
    vhost = unquote(rabbit_url.rsplit("/", 1)[1])
    first = nova_listener()  # declares the pool queue and its bindings
    first.listener.stop()
    first.listener.wait()
    done = setup_broker(rabbit, rabbit_url, tmp_path, "--pool-max-length", "100",
                        "--dead-letter-max-length", "150")
    assert done.returncode == 0, done.stdout + done.stderr
    _publish(rabbit.amqp_url(vhost), 300)  # the cloud keeps talking while we are down
    wait_for(lambda: rabbit.queue_depth(vhost, POOL) == 100, 30, "queue capped at 100")
    # the 200 dropped heads were dead-lettered, and that queue is bounded too
    wait_for(lambda: rabbit.queue_depth(vhost, f"{POOL}.broker_dead_letter") == 150, 30,
             "dropped heads kept, capped at 150")
    second = nova_listener()

    def consumed() -> float:
        return second.metric("host_recovery_notifications_consumed_total", {"source": "nova"})

    # an empty queue is not the end: prefetched messages are still being handled, so wait on
    # what is asserted (the count), then check nothing beyond the capped 100 arrived
    wait_for(lambda: consumed() >= 100 and rabbit.queue_depth(vhost, POOL) == 0, 30,
             "the capped 100 consumed and the queue drained")
    assert consumed() == 100
