"""``host_recovery.fence``: the host's nova-compute service must be down before evacuating.

Force-down only when the incident says fencing is confirmed (or ``[recovery]
force_down_unconfirmed``); a service that is up and not fenced is refused: never evacuate a
live host.
"""

from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from . import runtime
from .base import Action, execution_ids

LOG = logging.getLogger(__name__)


class FenceAction(Action):
    """Output: ``{"fenced": bool, "forced_down": bool, "service": {...}, "reason": str}``."""

    def __init__(self, incident_id: str, host: str, fencing_confirmed: bool = False) -> None:
        self.incident_id = incident_id
        self.host = host
        self.fencing_confirmed = bool(fencing_confirmed)

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        execution_id = execution_ids(context)["workflow_execution_id"]
        services = rt.nova.compute_services(self.host)
        if not services:
            return self._result(False, False, None,
                                f"no nova-compute service on host {self.host}")
        service = services[0]
        brief = {key: service.get(key) for key in
                 ("id", "host", "state", "status", "forced_down")}
        if service.get("forced_down"):
            return self._result(True, False, brief, "service already forced down")
        allowed = self.fencing_confirmed or rt.conf.recovery.force_down_unconfirmed
        if allowed:
            rt.nova.force_down(service)
            why = "fencing confirmed" if self.fencing_confirmed else \
                "force_down_unconfirmed is set"
            LOG.warning("incident %s host %s execution %s: nova-compute forced down (%s)",
                        self.incident_id, self.host, execution_id, why)
            return self._result(True, True, dict(brief, forced_down=True),
                                f"service forced down ({why})")
        if service.get("state") == "down":
            return self._result(True, False, brief,
                                "service down in Nova (not forced: fencing not confirmed)")
        LOG.error("incident %s host %s execution %s: refused, nova-compute is up and "
                  "fencing is not confirmed", self.incident_id, self.host, execution_id)
        return self._result(False, False, brief,
                            f"refused: nova-compute on {self.host} is up and fencing is not "
                            "confirmed; a live host is never evacuated")

    @staticmethod
    def _result(fenced: bool, forced: bool, service: dict[str, Any] | None,
                reason: str) -> dict[str, Any]:
        return {"fenced": fenced, "forced_down": forced, "service": service, "reason": reason}
