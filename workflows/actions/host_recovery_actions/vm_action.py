"""The base of the per-VM actions: the instance, its incident and source host, and the
recovery log line (host, incident, execution and instance in every line)."""

from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from .base import Action, execution_ids

__all__ = ["InstanceAction"]

LOG = logging.getLogger("host_recovery_actions.instance")


class _Lazy:
    """Formats ``text % args`` only when the log line is emitted."""

    def __init__(self, text: str, args: tuple[Any, ...]) -> None:
        self.text, self.args = text, args

    def __str__(self) -> str:
        return self.text % self.args


class InstanceAction(Action):
    """One VM's action: its id, incident and source host, and the log line naming them."""

    def __init__(self, incident_id: str, instance: dict[str, Any], source_host: str,
                 kwargs: dict[str, Any]) -> None:
        self.incident_id = incident_id
        self.instance = instance
        self.source_host = source_host
        self.instance_id = str(instance["id"])
        self.kwargs = kwargs

    def _log(self, context: Any, level: int, text: str, *args: Any) -> None:
        LOG.log(level, "incident %s host %s execution %s instance %s: %s", self.incident_id,
                self.source_host, execution_ids(context)["workflow_execution_id"],
                self.instance_id, _Lazy(text, args))
