"""Helpers for the workflow's functional tests: actions config, workflow upload, executions,
Nova reads through the simulator, and a listener stand-in that completes waits."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from pathlib import Path
from typing import Any

import requests

from harness import stack
from harness.mistral import MistralServer
from harness.simulator import SimulatorProcess
from notifications import contract
from tests.waiting import wait_for
from workflows import WORKFLOW_NAME, definition

WAIT_ACTION = contract.WAIT_EVACUATION


def write_actions_config(path: Path, mistral: MistralServer, sim: SimulatorProcess,
                         **groups: dict[str, Any]) -> None:
    """The harness's action-pack config with the settings these tests share."""
    defaults: dict[str, Any] = {  # Any: ** also fits write_actions_config's microversion
        # window 0: tests share the session Mistral, whose other incidents must not make the
        # mass-failure guard hold this one (the guard's own tests run on their own Mistral)
        "guard": {"max_hosts": 5, "max_fraction": 1.0, "window": 0},
        "recovery": {"wait_timeout": 30, "poll_interval": 0.5, "poll_limit": 30,
                     "concurrency": 10},
    }
    for name, values in groups.items():
        defaults.setdefault(name, {}).update(values)
    stack.write_actions_config(path, mistral, sim, **defaults)


def upload_workflows(api: str) -> None:
    """Create or update our workflows in Mistral."""
    headers = {"Content-Type": "text/plain"}
    resp = requests.post(f"{api}/workflows", data=definition(), headers=headers, timeout=30)
    if resp.status_code == 409:
        resp = requests.put(f"{api}/workflows", data=definition(), headers=headers, timeout=30)
    assert resp.status_code in (200, 201), resp.text


def start_recovery(api: str, host: str, fencing_confirmed: bool = True,
                   execution_id: str | None = None, **extra: Any) -> str:
    """POST the execution the listener would (client-chosen id = incident id).

    ``fencing_confirmed`` sends the evidence a reporter would (an operator's, dated now): a
    bare ``fencing_confirmed: true`` is not proof to the fence step.
    """
    incident = execution_id or str(uuid.uuid4())
    evidence = ({"kind": "operator", "target": host, "action": None,
                 "completed_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
                 "executioner": None, "origin": None, "by": "functional-test",
                 "incident_id": None} if fencing_confirmed else None)
    body = {"workflow_name": WORKFLOW_NAME, "id": incident, "input": {
        "search_opts": {"host": host}, "incident_id": incident,
        "fencing_confirmed": fencing_confirmed, "fencing_evidence": evidence,
        "failure_time": "2024-01-01T00:00:00Z",
        "reporter": "test", "source": "functional-test", "attempt": 1, **extra}}
    resp = requests.post(f"{api}/executions", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    return incident


def wait_execution(api: str, execution_id: str, timeout: float,
                   states: tuple[str, ...] = ("SUCCESS", "ERROR")) -> dict[str, Any]:
    """Poll Mistral (its API is the only way to observe an execution) until it ends."""
    def ended() -> dict[str, Any] | None:
        try:
            execution: dict[str, Any] = requests.get(f"{api}/executions/{execution_id}",
                                                     timeout=10).json()
        except requests.RequestException:  # Mistral restarting: keep waiting
            return None
        if execution.get("state") not in states:
            return None
        execution["output"] = json.loads(execution.get("output") or "{}")
        return execution

    found: dict[str, Any] = wait_for(ended, timeout, f"execution {execution_id} to reach "
                                     f"{'/'.join(states)}", interval=0.3)
    return found


class Nova:
    """Admin reads/writes against the simulator's Nova through a keystoneauth session."""

    def __init__(self, sim: SimulatorProcess, version: str = "2.95") -> None:
        self.session = sim.keystone_session()
        self.url = sim.compute_url
        self.version = version

    def _req(self, method: str, path: str, body: Any = None, version: str | None = None
             ) -> Any:
        resp = self.session.request(
            f"{self.url}{path}", method, json=body, raise_exc=False,
            headers={"OpenStack-API-Version": f"compute {version or self.version}"})
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def servers(self, host: str | None = None) -> list[dict[str, Any]]:
        query = f"&host={host}" if host else ""
        found: list[dict[str, Any]] = self._req(
            "GET", f"/servers/detail?all_tenants=1{query}")["servers"]
        return found

    def server(self, server_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._req("GET", f"/servers/{server_id}")["server"]
        return found

    def action(self, server_id: str, body: dict[str, Any], version: str = "2.95") -> None:
        self._req("POST", f"/servers/{server_id}/action", body, version)

    def evacuations(self) -> dict[str, int]:
        """Evacuation migrations per instance: one per evacuate request Nova accepted."""
        found = self._req("GET", "/os-migrations", version="2.80")["migrations"]
        counts: dict[str, int] = {}
        for migration in found:
            if migration.get("migration_type") == "evacuation":
                uuid_ = migration["instance_uuid"]
                counts[uuid_] = counts.get(uuid_, 0) + 1
        return counts


class ListenerStandIn:
    """Completes RUNNING waits as the listener would, from what Nova shows (the real
    listener reads Nova's notifications; the contract — PUT SUCCESS with result/host/
    vm_state/fault/via — is the same)."""

    def __init__(self, api: str, nova: Nova) -> None:
        self.api = api
        self.nova = nova
        self.completed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ListenerStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            try:
                self._sweep()
            except (requests.RequestException, AssertionError, ValueError):
                continue

    def _sweep(self) -> None:
        resp = requests.get(f"{self.api}/action_executions", timeout=10, params={
            "name": WAIT_ACTION, "state": "RUNNING"})
        accepted = self.nova.evacuations()
        for action in resp.json().get("action_executions", []):
            args = json.loads(action["input"]) if isinstance(action["input"], str) \
                else action["input"]
            # a wait exists before its evacuation (it evacuates): the listener hears only of
            # evacuations Nova accepted, so a VM's state before its attempt-th one is no news
            if accepted.get(args["instance_id"], 0) < int(args.get("attempt") or 1):
                continue
            server = self.nova.server(args["instance_id"])
            task_state = server.get("OS-EXT-STS:task_state")
            host = server.get("OS-EXT-SRV-ATTR:host")
            vm_state = server.get("OS-EXT-STS:vm_state")
            if task_state:
                continue
            if host != args["source_host"] and vm_state in ("active", "stopped"):
                output = {"result": "evacuated", "host": host, "vm_state": vm_state,
                          "fault": None, "via": "notification"}
            elif vm_state == "error":
                output = {"result": "error", "host": host, "vm_state": vm_state,
                          "fault": (server.get("fault") or {}).get("message"),
                          "via": "notification"}
            else:
                continue
            put = requests.put(f"{self.api}/action_executions/{action['id']}", timeout=10,
                               json={"state": "SUCCESS", "output": output})
            if put.status_code == 200:
                self.completed += 1
