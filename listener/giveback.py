"""Give hosts back: clear our force-down once an ended incident's host is back (issue 11).

Every [giveback] interval s the listener reads, from Mistral (the one store), each host's
latest incident. When it ended and its fence step forced the host down (output
``fence.forced_down``) and no stored run of contract.GIVE_BACK settled that incident yet, it
starts GIVE_BACK for the host as a stored ad-hoc action (on an executor: the action reads
Mistral's API itself, so the listener never holds an API request open around it); that action
execution is the record. The action checks Nova (nova-compute restarted, Nova accepts
``forced_down=false``); a "not yet" is tried again in a later round, never while a try for the
host still runs. At most [giveback] max_per_round hosts a round::

    GiveBack(conf, mistral).start()     # the service does this; stop() on shutdown
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from listener.periodic import Periodic
from notifications.contract import GIVE_BACK, RECOVER_HOST, MistralError

LOG = logging.getLogger(__name__)

__all__ = ["Candidate", "GiveBack", "pending"]

_ACTIVE = ("RUNNING", "IDLE", "PAUSED")


class Reads(Protocol):
    """What give-back needs from listener.mistral_api.MistralAPI."""

    def list_executions(self, **filters: str) -> list[dict[str, Any]]: ...

    def list_action_executions(self, name: str, state: str | None = "RUNNING",
                               **filters: str) -> list[dict[str, Any]]: ...

    def start_action(self, name: str, action_input: dict[str, Any] | None = None
                     ) -> dict[str, Any]: ...


class Candidate(NamedTuple):
    host: str
    incident_id: str
    execution_id: str
    ended_at: str


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _settled(runs: list[dict[str, Any]]) -> tuple[set[str], dict[str, str], set[str]]:
    """Incidents given back, per host the time of the last run that found nothing to do, and
    the hosts a run is still trying."""
    cleared: set[str] = set()
    nothing: dict[str, str] = {}
    trying: set[str] = set()
    for run in runs:
        if run.get("state") in _ACTIVE:
            trying.add(str(_dict(run.get("input")).get("host")))
            continue
        if run.get("state") != "SUCCESS":
            continue
        result = _dict(_dict(run.get("output")).get("result"))
        if result.get("cleared"):
            cleared.add(str(result.get("incident_id")))
        elif _dict(result.get("service")).get("forced_down") is False:
            # someone else cleared it: nothing of ours left to give back
            host = str(result.get("host"))
            nothing[host] = max(nothing.get(host, ""), str(run.get("created_at") or ""))
    return cleared, nothing, trying


def pending(executions: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[Candidate]:
    """Hosts whose latest incident ended with our force-down, not yet settled (oldest first)."""
    latest: dict[str, dict[str, Any]] = {}
    for ex in sorted(executions, key=lambda e: (str(e.get("created_at")), str(e.get("id")))):
        host = _dict(_dict(ex.get("input")).get("search_opts")).get("host")
        if host:
            latest[str(host)] = ex
    cleared, nothing, trying = _settled(runs)
    found = []
    for host, ex in latest.items():
        if ex.get("state") in _ACTIVE or host in trying:
            continue
        if not _dict(_dict(ex.get("output")).get("fence")).get("forced_down"):
            continue
        incident = str(_dict(ex.get("input")).get("incident_id") or ex.get("id"))
        ended = str(ex.get("updated_at") or "")
        if incident in cleared or nothing.get(host, "") > ended:
            continue
        found.append(Candidate(host, incident, str(ex.get("id")), ended))
    return sorted(found, key=lambda c: c.ended_at)


class GiveBack:
    """The periodic give-back on a daemon thread (started and stopped by the service)."""

    def __init__(self, conf: cfg.ConfigOpts, mistral: Reads) -> None:
        self._mistral = mistral
        self._interval = float(conf.giveback.interval)
        self._batch = int(conf.giveback.max_per_round)
        self._rounds = 0
        self._tried: dict[str, int] = {}  # host -> round of its last try: least recent first
        self._periodic = Periodic("giveback", self.round, self._interval)
        self.start, self.stop = self._periodic.start, self._periodic.stop

    def round(self) -> list[Candidate]:
        """One round: the candidates whose GIVE_BACK was started (results land in Mistral)."""
        executions = self._mistral.list_executions(workflow_name=RECOVER_HOST,
                                                   include_output="true")
        runs = self._mistral.list_action_executions(GIVE_BACK, state=None,
                                                    include_output="true")
        results = []
        self._rounds += 1
        # a host that never comes back must not hold a slot every round
        chosen = sorted(pending(executions, runs),
                        key=lambda c: self._tried.get(c.host, 0))[:self._batch]
        for cand in chosen:
            self._tried[cand.host] = self._rounds
            try:
                action = self._mistral.start_action(GIVE_BACK, {"host": cand.host})
            except MistralError as exc:  # one host's failure does not stop the others
                LOG.warning("give back: incident %s host %s execution %s not started: %s",
                            cand.incident_id, cand.host, cand.execution_id, exc)
                continue
            LOG.info("give back: incident %s host %s execution %s: action execution %s",
                     cand.incident_id, cand.host, cand.execution_id, action.get("id"))
            results.append(cand)
        return results

