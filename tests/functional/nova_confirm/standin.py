"""A stand-in per-VM workflow for the confirmation tests: an optional pause, then one async
wait action (ad-hoc ``hrtest.wait_evacuation`` on ``std.async_noop``, with the same input the
action pack's ``host_recovery.wait_evacuation`` takes) that only our listener can complete.
Like ``host_recovery.recover_instance`` it takes the VM as ``instance: {id: ...}``."""

from __future__ import annotations

from typing import Any

import requests

from tests.waiting import wait_for

WAIT_ACTION = "hrtest.wait_evacuation"
WORKFLOW = "hrtest.recover_instance"

ACTIONS = f"""---
version: '2.0'
{WAIT_ACTION}:
  base: std.async_noop
  input:
    - instance_id
    - incident_id
    - source_host
    - expected_vm_state: null
    - accepted_at: null
"""

WORKFLOWS = f"""---
version: '2.0'
{WORKFLOW}:
  input:
    - instance
    - incident_id
    - source_host
    - expected_vm_state: null
    - pause: 0
  output:
    confirmation: <% $.confirmation %>
  tasks:
    pause:
      action: std.sleep
      input:
        seconds: <% $.pause %>
      on-success: wait
    wait:
      action: {WAIT_ACTION}
      input:
        instance_id: <% $.instance.id %>
        incident_id: <% $.incident_id %>
        source_host: <% $.source_host %>
        expected_vm_state: <% $.expected_vm_state %>
      timeout: 120
      publish:
        confirmation: <% task().result %>
"""


def register(api_url: str) -> None:
    """Create (or update) the stand-in action and workflow."""
    for path, text in (("actions", ACTIONS), ("workflows", WORKFLOWS)):
        headers = {"Content-Type": "text/plain"}
        resp = requests.post(f"{api_url}/{path}", data=text, headers=headers, timeout=30)
        if resp.status_code == 409:
            resp = requests.put(f"{api_url}/{path}", data=text, headers=headers, timeout=30)
        assert resp.status_code in (200, 201), f"{path}: {resp.status_code} {resp.text}"


def start(api_url: str, instance_id: str, **inputs: Any) -> str:
    """Start the stand-in for one VM (its input carries ``instance.id`` as the real one)."""
    body = {"workflow_name": WORKFLOW, "input": {"instance": {"id": instance_id}, **inputs}}
    resp = requests.post(f"{api_url}/executions", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    execution_id: str = resp.json()["id"]
    return execution_id


def execution(api_url: str, execution_id: str) -> dict[str, Any]:
    resp = requests.get(f"{api_url}/executions/{execution_id}", timeout=30)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def wait_ended(api_url: str, execution_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the execution leaves RUNNING (a condition with a bound, not a sleep)."""
    def ended() -> dict[str, Any] | None:
        body = execution(api_url, execution_id)
        return body if body["state"] not in ("RUNNING", "IDLE") else None

    found: dict[str, Any] = wait_for(ended, timeout, f"execution {execution_id} to end",
                                     interval=0.1)
    return found


def running_waits(api_url: str) -> list[dict[str, Any]]:
    resp = requests.get(f"{api_url}/action_executions", params={
        "name": WAIT_ACTION, "state": "RUNNING", "fields": "id,input"}, timeout=30)
    assert resp.status_code == 200, resp.text
    rows: list[dict[str, Any]] = resp.json()["action_executions"]
    return rows
