"""On the real broker and Mistral: a host-down whose handling raises is tried a bounded number
of times, then dead-lettered ``internal``; an unsigned one goes round the listeners a bounded
number of times; valid host-downs around them start. Takes about 10 s."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.mistral import MistralServer
from harness.rabbit import RabbitBroker
from tests.functional.listener import support

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral]

FAST = {"listener": {"redelivery_delay": "0.2", "internal_attempts": "3",
                     "verify_attempts": "3"}}


def test_raising_and_unsigned_host_downs_are_bounded_then_dead_lettered(
        rabbit: RabbitBroker, rabbit_url: str, own_mistral: MistralServer,
        tmp_path: Path) -> None:
    workflow_file = support.ensure_stand_in(own_mistral.api_url, tmp_path / "wf.yaml")
    listeners = [support.ListenerProcess(tmp_path, f"br-{i}", rabbit_url,
                                         own_mistral.api_url, workflow_file, extra=FAST)
                 for i in range(2)]
    for listener in listeners:
        listener.start()
    valid = [support.incident(n, "br") for n in range(3)]
    bad = [support.incident(n, "br-bad") for n in range(2)]
    unencodable = support.payload(*bad[0])
    unencodable["reporter"] = "ocf \ud800"  # JSON-escaped on the wire; cannot be signed-checked
    unsigned = support.payload(*bad[1], signed=False)
    vhost = rabbit_url.rsplit("/", 1)[1]
    try:
        support.send(support.publisher(rabbit_url),
                     [support.payload(*valid[0]), unencodable, support.payload(*valid[1]),
                      unsigned, support.payload(*valid[2])])
        support.wait_for(lambda: (rabbit.queue_depth(vhost, "host_recovery.dead_letter")
                                  or 0) >= 2, 60, "two dead letters")
        ours = {iid for _h, iid in valid + bad}
        support.wait_for(lambda: len(support.executions_for(own_mistral.api_url, ours))
                         >= len(valid), 60, "valid host-downs started")
        executions = support.executions_for(own_mistral.api_url, ours)
        support.wait_for(lambda: rabbit.queue_depth(vhost, "host_recovery.info") == 0, 30,
                         "host-down queue empty")
        letters = support.drain(rabbit.amqp_url(vhost), "host_recovery.dead_letter")
        def count(pattern: str) -> int:
            return sum(len(lst.lines(pattern)) for lst in listeners)

        raising_id, unsigned_id = (re.escape(iid) for _h, iid in bad)
        deliveries = {"internal": count(f"Unexpected error handling host-down.*{raising_id}"),
                      "unsigned": count(f"{unsigned_id}\\) not accepted on delivery")
                      + count(f"Dead-lettering host-down.*{unsigned_id}")}
        tracebacks = sum(lst.text().count("Traceback") for lst in listeners)
    finally:
        for listener in listeners:
            listener.terminate()

    assert {e["id"] for e in executions} == {iid for _h, iid in valid}
    reasons = {body["original"]["payload"]["incident_id"]: body for body, _headers in letters}
    assert reasons[bad[0][1]]["reason"] == "internal"
    assert reasons[bad[0][1]]["detail"].startswith("UnicodeEncodeError")
    assert reasons[bad[1][1]]["reason"] == "unsigned"
    assert len(letters) == 2
    # exactly [listener] internal_attempts / verify_attempts deliveries: no loop
    assert deliveries == {"internal": 3, "unsigned": 3}
    assert tracebacks <= 2  # the first delivery's only, in whichever listener took it
