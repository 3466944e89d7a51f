"""Three listener processes, duplicated host-downs: exactly one execution per incident."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from harness.mistral import MistralServer
from harness.rabbit import RabbitBroker
from tests.functional.listener import support

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral]


def test_200_messages_for_50_incidents_start_exactly_50_executions(
        rabbit: RabbitBroker, rabbit_url: str, own_mistral: MistralServer,
        tmp_path: Path) -> None:
    mistral = own_mistral  # its own: the session Mistral runs the real gate for others
    workflow_file = support.ensure_stand_in(mistral.api_url, tmp_path / "wf.yaml")
    listeners = [support.ListenerProcess(tmp_path, f"ctl-{i}", rabbit_url, mistral.api_url,
                                         workflow_file) for i in range(3)]
    for listener in listeners:
        listener.start(wait=False)
    for listener in listeners:
        support.wait_for(listener.ready, 60, f"{listener.name} consuming")
    try:
        rng = random.Random(5)
        incidents = [support.incident(n, "cc") for n in range(50)]
        copies = [1, 6] + [rng.randint(1, 6) for _ in range(48)]
        # top up to exactly 200 messages, each incident sent 1-6 times
        while sum(copies) != 200:
            i = rng.randrange(50)
            if sum(copies) < 200 and copies[i] < 6:
                copies[i] += 1
            elif sum(copies) > 200 and copies[i] > 1:
                copies[i] -= 1
        messages = [incidents[i] for i, c in enumerate(copies) for _ in range(c)]
        rng.shuffle(messages)  # duplicates interleaved
        support.send(support.publisher(rabbit_url),
                     (support.payload(host, iid) for host, iid in messages))
        ids = {iid for _host, iid in incidents}

        accepted = lambda: sum(len(lst.lines(r"Recovery accepted")) for lst in listeners)  # noqa: E731
        support.wait_for(lambda: accepted() >= 200, 180, "200 host-downs accepted")
        executions = support.executions_for(mistral.api_url, ids)
        vhost = rabbit_url.rsplit("/", 1)[1]
        assert rabbit.queue_depth(vhost, "host_recovery.info") == 0
        assert rabbit.queue_depth(vhost, "host_recovery.dead_letter") in (None, 0)
    finally:
        codes = [listener.terminate() for listener in listeners]

    assert len(executions) == 50
    assert {e["id"] for e in executions} == ids
    per_listener = [len(lst.lines(r"Recovery accepted")) for lst in listeners]
    assert sum(per_listener) == 200, per_listener  # no redelivery: every message once
    assert all(n > 0 for n in per_listener), per_listener  # prefetch shares the stream
    accepted_ids = {re.search(r"incident (\S+)", line).group(1)  # type: ignore[union-attr]
                    for lst in listeners for line in lst.lines("Recovery accepted")}
    assert accepted_ids == ids
    assert not any(lst.lines("Conflict") for lst in listeners)
    assert codes == [0, 0, 0]  # graceful SIGTERM exit
    print(f"messages per listener: {per_listener}")
