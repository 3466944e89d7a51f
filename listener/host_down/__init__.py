"""Host-downs to recoveries (docs/design.md §2).

``HostDownListener`` (service.py) consumes the host-down queue; ``HostDownEndpoint``
(endpoint.py) hands each message to ``RecoveryStarter`` (starter.py), which verifies it and
starts the workflow with the incident id, or dead-letters it (``DeadLetters``,
dead_letter.py).
"""

from listener.host_down.dead_letter import DeadLetterError, DeadLetters
from listener.host_down.endpoint import HostDownEndpoint
from listener.host_down.service import HostDownListener
from listener.host_down.starter import Message, Outcome, RecoveryStarter

__all__ = ["DeadLetterError", "DeadLetters", "HostDownEndpoint", "HostDownListener", "Message",
           "Outcome", "RecoveryStarter"]
