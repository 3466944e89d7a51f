"""Reserved hosts (Masakari's ``reserved_host``): nova-compute services the operator keeps
disabled, so Nova's scheduler puts nothing on them, and that the plan enables when an
incident's VMs fit nowhere else.

The host policy names them (``reserved_hosts``, else the hosts of ``reserved_aggregate``).
When the plan (``plan``, or a later round's ``next_round``) leaves VMs waiting for
capacity, reserved hosts are tried in the policy's order, one at a time: a host that is
down or forced down is never enabled, nor one outside the waiting VMs' pinned zone, nor one
on which none of them fits; each one that lets more VMs fit is enabled (``PUT
/os-services``) until every VM fits or none is left, and then the plan is made again from
what Nova and Placement say now. An already enabled reserved host is an ordinary target
(a re-run or a retry just uses it). Shadow mode and ``host-recovery plan`` enable nothing:
they say which hosts would be enabled. We never disable a reserved host again: the operator
does after the incident, as with Masakari.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oslo_log import log as logging

from . import capacity, placing, policy
from .nova import NovaError

__all__ = ["Outcome", "choose", "names", "place"]

LOG = logging.getLogger(__name__)


@dataclass
class Outcome:
    """The placement, the reserved hosts enabled (or that would be: ``act`` false) and the
    reserved hosts left alone, each ``{"host", "reason"}``."""

    placed: placing.Placed | None
    enabled: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def names(hp: policy.HostPolicy, aggregates: list[dict[str, Any]]) -> list[str]:
    """The host policy's reserved hosts, in its order (none: [])."""
    return placing.hosts_of(hp.reserved_hosts, hp.reserved_aggregate, aggregates) or []


def _unusable(service: dict[str, Any] | None, has_provider: bool) -> str | None:
    """Why a reserved host cannot be enabled; None when it can."""
    if service is None:
        return "no nova-compute service of that name"
    if service.get("forced_down"):
        return "forced down: never enabled"
    if service.get("state") != "up":
        return "down: never enabled"
    if not has_provider:
        return "no resource provider in Placement"
    return None


def _why_not(model: placing.Model, host: capacity.Host | None,
             service: dict[str, Any] | None, waiting: dict[str, str]) -> str | None:
    """Why a disabled reserved host is not worth trying for the ``waiting`` VMs."""
    why = _unusable(service, host is not None and host.name in model.free)
    if why is not None or host is None:
        return why or "no nova-compute service of that name"
    # an unpinned VM may go to any zone (Nova's evacuate keeps only a pinned zone)
    zones = {vm.zone for vm in model.vms if vm.id in waiting}
    if None not in zones and host.zone not in zones:
        return (f"in availability zone {host.zone}; the waiting VMs are pinned to "
                f"{', '.join(sorted(str(z) for z in zones))}")
    return None


def _trial(model: placing.Model, host: capacity.Host) -> placing.Placed:
    """The placement with ``host`` enabled (``model`` is left as it was)."""
    host.usable, host.why_not = True, None
    try:
        return model.assign()
    finally:
        host.usable, host.why_not = False, "disabled"


def choose(model: placing.Model, reserved: list[str]
           ) -> tuple[placing.Placed, list[dict[str, str]], list[dict[str, str]]]:
    """(placement, hosts to enable, hosts left alone): reserved hosts in order, each taken
    only if more waiting VMs fit with it (marks the chosen hosts usable in ``model``)."""
    placed = model.assign()
    services = {str(s.get("host")): s for s in model.services}
    hosts = {h.name: h for h in model.hosts}
    chosen: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    for name in reserved:
        waiting = placed[1]
        if not waiting:
            break
        host = hosts.get(name)
        if host is not None and host.usable:
            continue  # already enabled: an ordinary target, its room is already counted
        why = _why_not(model, host, services.get(name), waiting)
        trial = _trial(model, host) if why is None and host is not None else None
        fitted = len(waiting) - len(trial[1]) if trial is not None else 0
        if trial is not None and host is not None and fitted > 0:
            host.usable, host.why_not = True, None
            chosen.append({"host": name, "reason": (
                f"{len(waiting)} VMs waiting for capacity ({next(iter(waiting.values()))}); "
                f"{fitted} of them fit with it")})
            placed = trial
            continue
        skipped.append({"host": name, "reason": why or
                        f"none of the {len(waiting)} waiting VMs fits on it"})
    return placed, chosen, skipped


def place(nova: Any, conf: Any, source: str, items: list[dict[str, Any]],
          hp: policy.HostPolicy, aggregates: list[dict[str, Any]], act: bool,
          where: tuple[str, str, str | None],
          known: list[dict[str, str]] | None = None) -> Outcome:
    """``placing.place`` for ``items``, enabling reserved hosts for what does not fit
    (``act`` false: only say which). ``where``: (step, incident id, execution id);
    ``known``: the skipped hosts an earlier round logged (not logged again)."""
    reserved = [h for h in names(hp, aggregates) if h != source]
    allowed = placing.allowed_targets(hp, aggregates)
    if allowed is not None:  # target_hosts limit the plan; reserved hosts are targets too
        allowed += [h for h in reserved if h not in allowed]
    model = placing.read(nova, conf, source, items, allowed, aggregates)
    if model is None or not reserved:
        return Outcome(None if model is None else model.assign())
    placed, chosen, skipped = choose(model, reserved)
    outcome = Outcome(placed, skipped=skipped)
    step, incident, execution = where

    def log(level: int, host: str, what: str, reason: str) -> None:
        LOG.log(level, "%s: incident %s host %s execution %s: reserved host %s %s: %s",
                step, incident, source, execution, host, what, reason)

    for entry in skipped:
        # a later round re-plans every capacity poll while VMs wait: one line per change
        if entry not in (known or []):
            log(logging.INFO, entry["host"], "not enabled", entry["reason"])
    if not act:
        outcome.enabled = chosen
        for entry in chosen:
            log(logging.INFO, entry["host"], "would be enabled (nothing changed)",
                entry["reason"])
        return outcome
    hosts = {h.name: h for h in model.hosts}
    for entry in chosen:
        why = _enable(nova, entry["host"])
        if why is None:
            outcome.enabled.append(entry)
            log(logging.WARNING, entry["host"], "enabled", entry["reason"])
            continue
        outcome.skipped.append({"host": entry["host"], "reason": why})
        hosts[entry["host"]].usable, hosts[entry["host"]].why_not = False, why
        log(logging.WARNING, entry["host"], "not enabled", why)
    if chosen:  # plan again on what Nova and Placement say now
        outcome.placed = placing.place(nova, conf, source, items, allowed,
                                       aggregates) or model.assign()
    return outcome


def _enable(nova: Any, host: str) -> str | None:
    """Enable ``host``'s nova-compute after reading it again (never a host that went down
    meanwhile); the reason when it was not enabled."""
    found = nova.compute_services(host)
    why = _unusable(found[0] if found else None, True)
    if why is not None:
        return why
    try:
        nova.enable_service(found[0])
    except NovaError as exc:  # Nova's decision (4xx); 5xx raises: the task retries
        return f"Nova refused to enable it: {exc}"
    return None
