"""Confirmation of evacuations from Nova's notifications (issue 7, docs/design.md §5).

``NovaEventListener`` (service.py) consumes the pool queue; ``NovaEndpoint`` (endpoint.py)
filters by event type; ``Confirmer`` (confirmer.py) finds the RUNNING wait in Mistral
(``MistralWaits``, waits.py, on the listener's Mistral facade) and completes it.
"""

from listener.nova.confirmer import Confirmer, Outcome
from listener.nova.endpoint import NovaEndpoint
from listener.nova.service import NovaEventListener
from listener.nova.waits import Completion, MistralWaits, Recovery, Wait

__all__ = ["Completion", "Confirmer", "MistralWaits", "NovaEndpoint", "NovaEventListener",
           "Outcome", "Recovery", "Wait"]
