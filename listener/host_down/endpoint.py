"""The oslo.messaging endpoint for host-downs: thin, it hands each message to the starter.

It implements every priority (oslo acks a body of a priority no endpoint implements before
our code sees it) and reads the delivery attempt our republished copies carry.
"""

from __future__ import annotations

from typing import Any

from listener.host_down.starter import Outcome, RecoveryStarter
from listener.redelivery import AllPriorities, Message, attempt_of
from notifications import messaging

__all__ = ["HostDownEndpoint"]


class HostDownEndpoint(AllPriorities):
    """Every priority goes to the starter (host-downs are published at INFO)."""

    def __init__(self, starter: RecoveryStarter) -> None:
        self.starter = starter

    def notify(self, priority: str, ctxt: Any, publisher_id: str, event_type: str,
               payload: Any, metadata: dict[str, Any]) -> Any:
        message = Message(publisher_id, event_type, priority, payload,
                          dict(metadata or {}), attempt_of(ctxt))
        outcome = self.starter.handle(message)
        return messaging.handled() if outcome is Outcome.HANDLED else messaging.requeue()
