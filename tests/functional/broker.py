"""``host-recovery setup-broker`` on a test vhost, and reading what the broker dead-lettered."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kombu.connection import Connection

from harness.listener import BIN, write_ini
from harness.rabbit import RabbitBroker


def setup_broker(rabbit: RabbitBroker, rabbit_url: str, workdir: Path,
                 *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the operator command against ``rabbit_url``'s vhost (its management API)."""
    config = workdir / "setup-broker.conf"
    write_ini(config, {"DEFAULT": {"transport_url": rabbit_url}})
    return subprocess.run(
        [str(BIN / "host-recovery"), "--config-file", str(config), "setup-broker",
         "--management-url", f"http://127.0.0.1:{rabbit.http_port}", *extra],
        capture_output=True, text=True, timeout=120, check=False)


def consumers(amqp_url: str, queue: str) -> int | None:
    """Consumers of ``queue`` now (passive declare); None while it does not exist."""
    with Connection(amqp_url) as conn:
        try:
            _name, _count, count = conn.default_channel.queue_declare(queue=queue, passive=True)
        except conn.channel_errors:
            return None
        return int(count)


def drain_raw(amqp_url: str, queue: str) -> list[tuple[bytes, dict[str, object]]]:
    """(raw body, first x-death record) of every message in ``queue``, acked."""
    out: list[tuple[bytes, dict[str, object]]] = []
    with Connection(amqp_url) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get(queue=queue, no_ack=False)) is not None:
            headers = dict(message.properties.get("application_headers") or {})
            deaths = headers.get("x-death") or [{}]
            out.append((bytes(message.body), dict(deaths[0])))
            channel.basic_ack(message.delivery_tag)
    return out
