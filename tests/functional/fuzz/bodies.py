"""Generated message bodies for the fuzz test (hypothesis strategies, reproducible by seed).

    bodies = generate(800, 12, host_down=True, signing_key="k")  # the same list every time

Kinds: raw bytes, JSON of every shape, oslo v2 envelopes with hostile fields and payloads,
host-downs signed with a key no listener holds (bounded retries, then ``forged``), and
host-downs with one field made hostile (wrong type, huge, lone surrogates, NULs, deep
nesting). Every decodable envelope carries a ``message_id`` ``fuzz-<n>`` where the kind lets
it, so a dead letter can be traced back to its body.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from notifications.host_down import build_payload, incident_id_for

PRIORITIES = ["INFO", "info", "WARN", "ERROR", "CRITICAL", "AUDIT", "DEBUG", "SAMPLE"]
HOSTILE_TEXT = ["\ud800", "a\udfffb", "\x00", "\x00" * 100, "x" * 70_000, "\u202e\u0000",
                "é" * 5000, "", " ", "../../etc/passwd", "'; DROP TABLE executions; --",
                "%s%s%n", "{{ _.x }}", "<% $.x %>"]
NOVA_EVENTS = ["instance.evacuate.end", "instance.evacuate.error", "instance.update",
               "instance.rebuild.end", "service.update", "instance.power_off.end"]


@dataclass(frozen=True)
class Body:
    """One body to publish: its bytes, its kind, and the message id it carries (if any)."""

    kind: str
    raw: bytes
    message_id: str | None = None


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return value


# built once: a strategy built per draw costs more than the draw
TEXT = st.one_of(st.sampled_from(HOSTILE_TEXT),
                 st.text(st.characters(codec=None, exclude_categories=()), max_size=40))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(),
              st.floats(allow_nan=True, allow_infinity=True), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12)
#: a value of any type for any field: JSON values plus deep nesting
HOSTILE = st.one_of(JSON, st.sampled_from([50, 400]).map(nested))
RAW = st.one_of(st.binary(max_size=300), st.sampled_from(
    [b"[" * 5000 + b"]" * 5000, b"1" + b"0" * 5000, b"\x00" * 64, b"{", b"null"]))
KINDS = st.sampled_from(["bytes", "json", "envelope", "fields", "schema", "forged"])


def dumps(value: Any) -> bytes:
    # ensure_ascii: lone surrogates go on the wire escaped, as a hostile sender's would
    return json.dumps(value, ensure_ascii=True).encode()


def envelope(message: dict[str, Any]) -> bytes:
    return dumps({"oslo.version": "2.0", "oslo.message": json.dumps(message)})


def host_down_payload(n: int, signing_key: str) -> dict[str, Any]:
    host = f"compute-fuzz-{n}"
    return build_payload(host, incident_id=incident_id_for(host, f"fuzz@{n}"),
                         failure_time=dt.datetime.now(dt.UTC), reporter="fuzz",
                         fencing_confirmed=True, source="manual", signing_key=signing_key)


@st.composite
def bodies(draw: st.DrawFn, n: int, host_down: bool, signing_key: str) -> Body:
    """Body number ``n`` for the host-down topic or (``host_down=False``) Nova's."""
    tag = f"fuzz-{n}"
    kind = draw(KINDS)
    if kind == "bytes":
        raw = draw(RAW)
        return Body(kind, raw)
    if kind == "json":
        value = draw(JSON)
        if isinstance(value, dict):
            value["message_id"] = tag
            return Body(kind, dumps(value), tag)
        return Body(kind, dumps(value))
    event_type = "host_recovery.host.down" if host_down else draw(st.sampled_from(NOVA_EVENTS))
    message: dict[str, Any] = {
        "message_id": tag, "publisher_id": "fuzz", "event_type": event_type,
        "priority": draw(st.sampled_from(PRIORITIES)), "timestamp": str(dt.datetime.now()),
        "payload": draw(HOSTILE)}
    if kind == "fields":  # one envelope field of a hostile value or type
        field = draw(st.sampled_from(sorted(message)))
        message[field] = draw(HOSTILE)
        if field == "message_id":
            return Body(kind, envelope(message))
    elif kind == "forged" and host_down:  # well-formed, signed with a key nobody accepts
        message["payload"] = host_down_payload(n, signing_key)
    elif kind in ("schema", "forged"):  # a real payload, one field hostile (signature broken)
        payload = host_down_payload(n, signing_key) if host_down else {
            "nova_object.name": "InstanceActionPayload", "nova_object.namespace": "nova",
            "nova_object.version": "1.8", "nova_object.data": {"uuid": "x", "host": "h"}}
        field = draw(st.sampled_from(sorted(payload)))
        payload[field] = draw(HOSTILE)
        if draw(st.booleans()) and host_down:
            payload.pop(draw(st.sampled_from(sorted(payload))), None)
        message["payload"] = payload
    if draw(st.integers(0, 9)) == 0:  # a context our redelivery reads: hostile too
        message["_context_host_recovery_attempt"] = draw(HOSTILE)
    return Body(kind, envelope(message), tag)


def generate(count: int, seed_value: int, host_down: bool, signing_key: str) -> list[Body]:
    """``count`` bodies, the same for the same ``seed_value`` (hypothesis, derandomized)."""
    out: list[Body] = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        out.append(data.draw(bodies(len(out), host_down, signing_key)))

    collect()
    return out[:count]
