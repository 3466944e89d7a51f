"""The Mistral workflow definitions, shipped as package data and synced by the listener.

Usage::

    from workflows import WORKFLOW_NAME, definition
    requests.post(f"{mistral}/workflows", data=definition())   # or PUT to update
"""

from importlib import resources

from notifications.contract import RECOVER_HOST, RECOVER_INSTANCE

__all__ = ["INSTANCE_WORKFLOW_NAME", "REQUIRED_PACK_VERSION", "WORKFLOW_NAME", "definition"]

# the names live in the workflow contract (notifications/contract.py)
WORKFLOW_NAME = RECOVER_HOST
INSTANCE_WORKFLOW_NAME = RECOVER_INSTANCE
# Must equal host_recovery_actions.PACK_VERSION (the action interfaces this YAML calls).
REQUIRED_PACK_VERSION = "7"


def definition() -> str:
    """The workflow YAML (both workflows, one document)."""
    return resources.files(__name__).joinpath("host_recovery.yaml").read_text("utf-8")
