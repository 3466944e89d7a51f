"""``host_recovery.give_back``: clear our force-down once the host is back (design.md, Safety).

Only a force-down that host-recovery wrote is cleared: the host's latest ended incident's
fence output says ``forced_down: true``. Conditions, all read from Nova and Mistral now:

* no recovery of the host is running (a running incident still relies on the force-down);
* nova-compute has restarted: the service row's ``updated_at`` advanced past the value our
  force-down write left (Nova's timestamps compared only with each other);
* Nova accepts ``forced_down=false`` (it refuses while 'done' evacuation migrations of the host
  exist, i.e. until the restarted nova-compute cleaned up the evacuated guests).

Run ad hoc (``host-recovery unfence HOST``; a listener may run it periodically). Output:
``{"host", "cleared", "reason", "incident_id", "service"}``; a clearance is recorded as the
``host_recovery.incident.given_back`` notification and in this action execution.
"""

from __future__ import annotations

import json
from typing import Any

from oslo_log import log as logging

from . import contract, events, runtime
from .base import Action, execution_ids
from .nova import NovaError

LOG = logging.getLogger(__name__)
WORKFLOW_NAME = contract.RECOVER_HOST
ACTIVE = ("RUNNING", "IDLE", "PAUSED")


def _host(execution: dict[str, Any]) -> str | None:
    opts = (execution.get("input") or {}).get("search_opts") or {}
    return opts.get("host") if isinstance(opts, dict) else None


def _nova_time(value: Any) -> str:
    # Nova's updated_at is ISO without a zone, same format on every row: comparable as text
    return str(value or "").replace(" ", "T").rstrip("Z")


def decide(host: str, executions: list[dict[str, Any]],
           service: dict[str, Any] | None) -> tuple[bool, str, str | None]:
    """(may clear, why, incident id) from the host's executions (newest first) and service."""
    mine = [e for e in executions if _host(e) == host]
    running = [e for e in mine if e.get("state") in ACTIVE]
    if running:
        return False, (f"refused: a recovery of {host} is running (incident "
                       f"{(running[0].get('input') or {}).get('incident_id')})"), None
    if service is None:
        return False, f"no nova-compute service on host {host}", None
    if not service.get("forced_down"):
        return False, f"nova-compute on {host} is not forced down: nothing to give back", None
    for execution in mine:
        fence = (execution.get("output") or {}).get("fence") or {}
        incident = (execution.get("input") or {}).get("incident_id")
        if not fence:
            continue
        if not fence.get("forced_down"):
            break  # the latest incident that fenced did not write it: not ours
        written = _nova_time((fence.get("service") or {}).get("updated_at"))
        if not written or _nova_time(service.get("updated_at")) <= written:
            return False, (f"not yet: nova-compute on {host} has not reported since our "
                           f"force-down (updated_at {service.get('updated_at')})"), incident
        return True, f"nova-compute on {host} restarted after incident {incident}", incident
    return False, (f"refused: forced_down on {host} was not set by host-recovery; clear it "
                   "yourself if you set it"), None


def _with_output(mistral: Any, host: str,
                 executions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The executions, the host's ended ones re-read with their output until one fenced.

    Mistral leaves ``output`` out of execution lists: without this re-read no fence record is
    ever seen and every force-down looks like someone else's.
    """
    out = []
    found = False
    for listed in executions:
        full = listed
        if not found and _host(listed) == host and listed.get("state") not in ACTIVE:
            if not listed.get("output"):
                full = dict(mistral.execution(str(listed["id"])))
            if isinstance(full.get("output"), str):  # served as JSON text
                full["output"] = json.loads(full["output"] or "{}")
            found = bool((full.get("output") or {}).get("fence"))
        out.append(full)
    return out


class GiveBackAction(Action):
    """Clear forced_down of ``host`` when the conditions above hold."""

    def __init__(self, host: str) -> None:
        self.host = host

    def run(self, context: Any) -> dict[str, Any]:
        rt = runtime.build()
        ids = execution_ids(context)
        services = rt.nova.compute_services(self.host)
        service = services[0] if services else None
        ok, reason, incident = decide(self.host, _with_output(
            rt.mistral, self.host, rt.mistral.executions(WORKFLOW_NAME)), service)
        if ok and service is not None:
            try:
                rt.nova.unforce_down(service)
            except NovaError as exc:
                ok, reason = False, (f"not yet: Nova keeps {self.host} forced down until its "
                                     f"evacuated guests are cleaned up ({exc.message})")
        LOG.log(logging.WARNING if ok else logging.INFO,
                "give back: incident %s host %s execution %s: %s", incident, self.host,
                ids["action_execution_id"], reason)
        if ok:
            rt.notify(*events.incident("given_back", str(incident), self.host, 1,
                                       ids["workflow_execution_id"], reason=reason))
        brief = {k: (service or {}).get(k) for k in ("id", "state", "forced_down",
                                                       "updated_at")}
        return {"host": self.host, "cleared": ok, "reason": reason, "incident_id": incident,
                "service": brief}
