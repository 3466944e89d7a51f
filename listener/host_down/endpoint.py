"""The oslo.messaging endpoint for host-downs: thin, it hands each message to the starter."""

from __future__ import annotations

from typing import Any

from listener.host_down.starter import Message, Outcome, RecoveryStarter
from notifications import messaging

__all__ = ["HostDownEndpoint"]


class HostDownEndpoint:
    """One method per priority we consume (host-downs are published at INFO)."""

    def __init__(self, starter: RecoveryStarter) -> None:
        self.starter = starter

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: Any,
             metadata: dict[str, Any]) -> Any:
        outcome = self.starter.handle(Message(publisher_id, event_type, "INFO", payload,
                                              dict(metadata or {})))
        return messaging.handled() if outcome is Outcome.HANDLED else messaging.requeue()
