"""Signing keys of host-downs: several accepted at once, each with an id (rotation).

    keyring = signing.keyring_from_conf(conf)   # ValueError: no key and not allow_unsigned
    keyring.key_ids                              # ('2026-01', 'default'): exported, never secrets
    keyring.secret_for("2026-01")                # None for an unknown id
    key_id, secret = keyring.signing_key()       # what a producer signs with

Keys come from ``[host_down]``: ``signing_keys`` (``id:secret`` list), ``signing_key_file``
(one ``id:secret`` a line, ``#`` comments) and the legacy ``signing_key``, which verifies
payloads without ``key_id`` (version 1 producers) under the id ``default``. Producers sign
with ``signing_key_id`` (written into the signed payload as ``key_id``), else with the legacy
key and no ``key_id``. Rotation: docs/operations.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_KEY_ID", "KEY_ID_PATTERN", "Keyring", "keyring_from_conf", "parse_keys"]

DEFAULT_KEY_ID = "default"
KEY_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_KEY_ID = re.compile(KEY_ID_PATTERN)


@dataclass(frozen=True)
class Keyring:
    """Accepted keys by id, the legacy key (payloads without key_id) and the signing id."""

    keys: dict[str, str] = field(default_factory=dict, repr=False)
    legacy: str | None = field(default=None, repr=False)
    signing_key_id: str | None = None

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Ids of every key this side can verify with (``default`` for the legacy key)."""
        ids = set(self.keys)
        if self.legacy:
            ids.add(DEFAULT_KEY_ID)
        return tuple(sorted(ids))

    def secret_for(self, key_id: str | None) -> str | None:
        """The secret for ``key_id`` (None: the legacy key); None when unknown."""
        if key_id is None:
            return self.legacy or None
        if key_id in self.keys:
            return self.keys[key_id]
        return self.legacy if key_id == DEFAULT_KEY_ID else None

    def signing_key(self) -> tuple[str | None, str | None]:
        """(key id to write, secret) a producer signs with; (None, None): no key."""
        if self.signing_key_id:
            return self.signing_key_id, self.keys[self.signing_key_id]
        return None, self.legacy or None


def parse_keys(items: list[str], origin: str) -> dict[str, str]:
    """``id:secret`` items into a dict; ValueError names the item by position, not secret."""
    keys: dict[str, str] = {}
    for number, item in enumerate(items, 1):
        key_id, sep, secret = item.strip().partition(":")
        if not sep or not secret or not _KEY_ID.match(key_id):
            raise ValueError(f"{origin}: entry {number} is not 'id:secret' with an id of "
                             f"letters, digits, '.', '_' or '-'")
        if key_id in keys:
            raise ValueError(f"{origin}: key id {key_id!r} given twice")
        keys[key_id] = secret
    return keys


def _read_key_file(path: str) -> dict[str, str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"[host_down] signing_key_file: cannot read {path}: "
                         f"{exc.strerror}") from exc
    lines = [line for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return parse_keys(lines, f"[host_down] signing_key_file {path}")


def keyring_from_conf(conf: Any) -> Keyring:
    """The keyring of ``conf.host_down``; ValueError on a bad key spec or no key at all.

    Having no key is an error unless ``allow_unsigned`` is set: a listener without a key
    would dead-letter valid host-downs, a producer would send unsigned ones.
    """
    group = conf.host_down
    keys = parse_keys(list(group.signing_keys or []), "[host_down] signing_keys")
    if group.signing_key_file:
        for key_id, secret in _read_key_file(group.signing_key_file).items():
            if key_id in keys:
                raise ValueError(f"[host_down] key id {key_id!r} given twice")
            keys[key_id] = secret
    if group.signing_key_id and group.signing_key_id not in keys:
        raise ValueError(f"[host_down] signing_key_id {group.signing_key_id!r} is not among "
                         f"the configured key ids {sorted(keys)}")
    keyring = Keyring(keys=keys, legacy=group.signing_key or None,
                      signing_key_id=group.signing_key_id or None)
    if not keyring.key_ids and not group.allow_unsigned:
        raise ValueError("no signing key: set [host_down] signing_key, signing_keys or "
                         "signing_key_file (or allow_unsigned = true on a trusted broker)")
    return keyring
