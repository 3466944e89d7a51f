"""The host-down contract: build, sign, validate and parse a host-down payload.

Producers (agents/, third-party oslo Notifiers) send it; the listener parses it::

    from notifications import host_down
    payload = host_down.build_payload("compute-1", incident_id=..., failure_time=...,
                                      reporter="ocf@ctl-1", fencing_confirmed=True,
                                      source="ocf", signing_key=key)
    try:
        event = host_down.parse_host_down(payload, signing_key=key, allow_unsigned=False,
                                          replay_window=900, clock_skew=60)
    except host_down.InvalidHostDown as exc:
        dead_letter(exc.reason, exc.detail)      # reason is one of REASONS
    start_workflow(event.incident_id, event.workflow_input())

Schema: ``notifications/schemas/host_down.v1.json``; samples in ``notifications/samples/``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

from notifications.fencing_evidence import (
    FencingEvidence,
    evidence_time,
    format_time,
    make_evidence,
    validate_evidence,
)
from notifications.incident import HOST_RECOVERY_NS, incident_id_for
from notifications.signing import Keyring, keyring_from_conf

__all__ = [
    "HOST_RECOVERY_NS",
    "PAYLOAD_VERSION",
    "REASONS",
    "FencingEvidence",
    "HostDown",
    "InvalidHostDown",
    "Keyring",
    "build_payload",
    "canonical",
    "evidence_time",
    "format_time",
    "incident_id_for",
    "make_evidence",
    "parse_host_down",
    "parse_with_conf",
    "sign",
    "sign_payload",
    "validate_evidence",
]

PAYLOAD_VERSION = "1.0"
#: "replayed" is no longer given (a late host-down starts its execution, idempotently: the
#: execution id is the incident id); kept for records written before. "stale": late, and
#: its proof of death older than [host_down] stale_after.
REASONS = ("malformed", "unsupported_version", "unsigned", "forged", "unknown_key", "clock",
           "replayed", "stale")
# This listener could not judge (a peer with the right keys or clock may): retry, bounded.
UNJUDGED_REASONS = ("unsigned", "forged", "unknown_key", "clock")


class InvalidHostDown(ValueError):
    """A host-down payload that must not start a recovery (dead-letter it, never retry)."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def unjudged(self) -> bool:
        """True when another listener (other keys, another clock) might accept it."""
        return self.reason in UNJUDGED_REASONS


@dataclass(frozen=True)
class HostDown:
    """A validated host-down."""

    incident_id: str
    host: str
    on_shared_storage: bool | None
    failure_time: dt.datetime
    reporter: str
    fencing_confirmed: bool
    source: str
    sent_at: dt.datetime
    fencing_evidence: FencingEvidence | None = None
    #: Seconds since sent_at when older than the replay window (0: on time). After an outage
    #: the first delivery is already late: it still starts its (idempotent) execution.
    late_by: float = 0.0

    def workflow_input(self) -> dict[str, Any]:
        """Input of ``host_recovery.recover_host`` for attempt 1 (design.md §4)."""
        return {
            "search_opts": {"host": self.host},
            "on_shared_storage": self.on_shared_storage,
            "incident_id": self.incident_id,
            "fencing_confirmed": self.fencing_confirmed,
            "fencing_evidence": self.fencing_evidence,
            "failure_time": format_time(self.failure_time),
            "reporter": self.reporter,
            "source": self.source,
            "attempt": 1,
        }


def canonical(payload: dict[str, Any]) -> bytes:
    """The signed bytes: sorted compact JSON of the payload without ``signature``, UTF-8."""
    body = {k: v for k, v in payload.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign(payload: dict[str, Any], key: str) -> str:
    """Hex HMAC-SHA256 of ``canonical(payload)`` with ``key``."""
    return hmac.new(key.encode("utf-8"), canonical(payload), hashlib.sha256).hexdigest()


def build_payload(host: str, *, incident_id: str, failure_time: dt.datetime, reporter: str,
                  fencing_confirmed: bool, source: str, on_shared_storage: bool | None = None,
                  signing_key: str | None = None, sent_at: dt.datetime | None = None,
                  fencing_evidence: FencingEvidence | None = None,
                  key_id: str | None = None) -> dict[str, Any]:
    """A version 1.0 payload, signed when ``signing_key`` is given.

    ``sent_at`` defaults to now: rebuild (re-sign) the payload at each publish attempt so a
    retried message is not rejected as replayed. ``fencing_evidence`` is written only when
    given (listeners older than the field would reject it), and then requires
    ``fencing_confirmed``. ``key_id`` (signed too) names ``signing_key`` among the keys
    listeners accept; without it listeners verify with their legacy ``signing_key``.
    """
    if fencing_evidence is not None and not fencing_confirmed:
        raise ValueError("fencing_evidence given with fencing_confirmed false")
    payload: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "incident_id": incident_id,
        "search_opts": {"host": host},
        "on_shared_storage": on_shared_storage,
        "failure_time": format_time(failure_time),
        "reporter": reporter,
        "fencing_confirmed": fencing_confirmed,
        "source": source,
        "sent_at": format_time(sent_at or dt.datetime.now(dt.UTC)),
    }
    if fencing_evidence is not None:
        payload["fencing_evidence"] = dict(validate_evidence(fencing_evidence))
    if key_id is not None:
        if not signing_key:
            raise ValueError("key_id given without signing_key")
        payload["key_id"] = key_id
    if signing_key:
        payload["signature"] = sign(payload, signing_key)
    return payload


def sign_payload(payload: dict[str, Any], keyring: Keyring) -> dict[str, Any]:
    """``payload`` signed with the keyring's signing key (``key_id`` set when it has one).

    ValueError when the keyring has no signing key: callers that may send unsigned check
    ``allow_unsigned`` first.
    """
    key_id, secret = keyring.signing_key()
    if not secret:
        raise ValueError("no signing key to sign the host-down with")
    signed = {k: v for k, v in payload.items() if k not in ("signature", "key_id")}
    if key_id is not None:
        signed["key_id"] = key_id
    signed["signature"] = sign(signed, secret)
    return signed


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    text = resources.files("notifications.schemas").joinpath("host_down.v1.json").read_text()
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _field_error(error: jsonschema.ValidationError) -> str:
    """'<field path>: <problem>', naming the missing property for 'required' errors."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator in ("required", "additionalProperties") and isinstance(
            error.instance, dict):
        schema: Any = error.schema
        wanted: Any = error.validator_value
        props = schema.get("properties", {})
        names = ([n for n in wanted if n not in error.instance]
                 if error.validator == "required"
                 else [n for n in error.instance if n not in props])
        if names:
            field = f"{path}.{names[0]}" if path else names[0]
            problem = "required" if error.validator == "required" else "unexpected field"
            return f"{field}: {problem}"
    return f"{path or 'payload'}: {error.message}"


def _parse_time(payload: dict[str, Any], field: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(payload[field])
    except ValueError as exc:
        raise InvalidHostDown("malformed", f"{field}: {exc}") from exc


def _parse_evidence(payload: dict[str, Any]) -> FencingEvidence | None:
    raw = payload.get("fencing_evidence")
    if raw is None:
        return None
    if not payload["fencing_confirmed"]:
        raise InvalidHostDown("malformed", "fencing_evidence: given with fencing_confirmed "
                                           "false")
    try:
        return validate_evidence(raw)
    except ValueError as exc:
        raise InvalidHostDown("malformed", str(exc)) from exc


def _check_signature(payload: dict[str, Any], keyring: Keyring, allow_unsigned: bool) -> None:
    signature = payload.get("signature")
    key_id = payload.get("key_id")
    secret = keyring.secret_for(key_id)
    if signature is None or not keyring.key_ids:
        if allow_unsigned:
            return
        detail = ("signature: missing and [host_down] allow_unsigned is false"
                  if signature is None
                  else "signature: cannot be verified, no [host_down] signing key configured")
        raise InvalidHostDown("unsigned", detail)
    if secret is None:
        which = f"key_id {key_id!r}" if key_id is not None else "no key_id (legacy key)"
        raise InvalidHostDown("unknown_key", f"key_id: {which} is not among this listener's "
                                             f"keys {list(keyring.key_ids)}")
    if not hmac.compare_digest(signature, sign(payload, secret)):
        raise InvalidHostDown("forged", f"signature: does not match the payload (key_id "
                                        f"{key_id or 'default'})")


def parse_host_down(payload: Any, *, signing_key: str | None, allow_unsigned: bool,
                    replay_window: int, clock_skew: int,
                    now: dt.datetime | None = None, keyring: Keyring | None = None,
                    stale_after: int | None = None) -> HostDown:
    """Validate ``payload`` (schema, version, signature, clock) into a HostDown.

    ``keyring`` (several keys by id) replaces ``signing_key`` (one legacy key) when given.
    A correctly signed host-down older than ``replay_window`` is late (``late_by``), not
    refused: its execution id is its incident id, so a replay never starts a second
    recovery, and the fence step's evidence check decides. Late and with a proof of death
    (fencing evidence, else failure_time) older than ``stale_after``: reason ``stale``.
    Raises InvalidHostDown whose ``reason`` is one of REASONS and ``detail`` names the field.
    """
    if not isinstance(payload, dict):
        raise InvalidHostDown("malformed", f"payload: expected an object, got "
                                           f"{type(payload).__name__}")
    version = payload.get("version")
    if version is None:
        raise InvalidHostDown("malformed", "version: required")
    if version != PAYLOAD_VERSION:
        raise InvalidHostDown("unsupported_version",
                              f"version: {version!r} is not supported (expected "
                              f"{PAYLOAD_VERSION!r})")
    errors = sorted(_validator().iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        raise InvalidHostDown("malformed", "; ".join(_field_error(e) for e in errors))
    failure_time = _parse_time(payload, "failure_time")
    sent_at = _parse_time(payload, "sent_at")
    evidence = _parse_evidence(payload)
    _check_signature(payload, keyring or Keyring(legacy=signing_key), allow_unsigned)
    now = now or dt.datetime.now(dt.UTC)
    age = (now - sent_at).total_seconds()
    if age > replay_window and stale_after is not None:
        proof = evidence_time(evidence) if evidence else failure_time
        proof_age = (now - proof).total_seconds()
        if proof_age > stale_after:
            raise InvalidHostDown("stale", f"sent_at: {age:.0f} s old and its proof of death "
                                           f"{proof_age:.0f} s old, beyond stale_after "
                                           f"({stale_after} s)")
    if -age > clock_skew:
        raise InvalidHostDown("clock", f"sent_at: {-age:.0f} s in the future, beyond the "
                                          f"clock skew of {clock_skew} s")
    return HostDown(
        incident_id=payload["incident_id"],
        host=payload["search_opts"]["host"],
        on_shared_storage=payload["on_shared_storage"],
        failure_time=failure_time,
        reporter=payload["reporter"],
        fencing_confirmed=payload["fencing_confirmed"],
        source=payload["source"],
        sent_at=sent_at,
        fencing_evidence=evidence,
        late_by=age if age > replay_window else 0.0,
    )


def parse_with_conf(payload: Any, conf: Any, now: dt.datetime | None = None) -> HostDown:
    """parse_host_down with the [host_down] options of ``conf`` (a ConfigOpts)."""
    group = conf.host_down
    return parse_host_down(payload, signing_key=None, keyring=keyring_from_conf(conf),
                           allow_unsigned=group.allow_unsigned,
                           replay_window=group.replay_window, clock_skew=group.clock_skew,
                           now=now, stale_after=group.stale_after)
