"""Bring an evacuated VM back to its original state (from 2.95 an ACTIVE VM ends STOPPED).

The wait's outcome already says the state Nova left (its notification or read, with the VM
locked by us since), so the start or stop goes out without a read first; then the VM is read
after 0.1 s, doubling up to ``[recovery] poll_interval`` (Nova starts a VM in well under a
second), for at most ``poll_limit`` seconds::

    result, server = restore.restore(nova, conf, vm_id, "active", log, known=outcome)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .nova import NovaError

__all__ = ["restore"]

VM_STATE = "OS-EXT-STS:vm_state"
TASK_STATE = "OS-EXT-STS:task_state"
FIRST_READ = 0.1  # seconds after the start or stop


def restore(nova: Any, conf: Any, instance_id: str, wanted: str,
            log: Callable[..., None], known: dict[str, Any] | None = None
            ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``({"final_state", "host"}, the last server read or None)``; RuntimeError when the
    VM cannot be brought to ``wanted`` or is not there after ``poll_limit``."""
    deadline = time.monotonic() + float(conf.recovery.poll_limit)
    known_state = (known or {}).get("vm_state")
    if known_state == wanted:
        return {"final_state": wanted, "host": (known or {}).get("host")}, None
    asked = bool(known_state) and _ask(nova, instance_id, known_state, wanted, log)
    delay = FIRST_READ if asked else 0.0
    while True:
        time.sleep(delay)
        server: dict[str, Any] = nova.server(instance_id)
        vm_state, task_state = server.get(VM_STATE), server.get(TASK_STATE)
        if vm_state == wanted and not task_state:
            return {"final_state": vm_state, "host": server.get("OS-EXT-SRV-ATTR:host")}, server
        if not task_state and not asked:
            asked = _ask(nova, instance_id, vm_state, wanted, log, strict=True)
        if time.monotonic() > deadline:
            raise RuntimeError(f"still {vm_state}/{task_state}, expected {wanted}")
        delay = min(max(delay * 2, FIRST_READ), float(conf.recovery.poll_interval))


def _ask(nova: Any, instance_id: str, vm_state: Any, wanted: str, log: Callable[..., None],
         strict: bool = False) -> bool:
    """Send the start or stop. Not strict (a state not read now): False when that state is
    not one to act on or Nova refused (the state changed since; the read loop decides)."""
    try:
        if wanted == "active" and vm_state == "stopped":
            nova.start(instance_id)
        elif wanted == "stopped" and vm_state == "active":
            nova.stop(instance_id)
        elif strict:
            raise RuntimeError(f"cannot bring {vm_state} to {wanted}")
        else:
            return False
    except NovaError as exc:
        if strict:
            raise
        log(30, "%s -> %s refused (%s): reading the VM", vm_state, wanted, exc.message)
        return False
    log(20, "%s -> %s requested", vm_state, wanted)
    return True
