"""The Mistral facade: the few REST calls our actions make (complete async actions, list
executions for the guard).

Usage::

    api = MistralAPI.from_config(conf)
    api.complete(action_execution_id, "SUCCESS", {"result": "evacuated", ...})
"""

from __future__ import annotations

import json
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg

__all__ = ["MistralAPI", "MistralUnavailable"]


class MistralUnavailable(Exception):
    """Mistral's API failed or could not be reached (worth retrying)."""


class MistralAPI:
    """Calls Mistral's v2 API at ``url`` (which ends in /v2)."""

    def __init__(self, url: str, session: ks_session.Session) -> None:
        self.url = url.rstrip("/")
        self._session = session

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> MistralAPI:
        auth = None
        if conf.mistral.auth_type:
            auth = ks_loading.load_auth_from_conf_options(conf, "mistral")
        sess = ks_loading.load_session_from_conf_options(conf, "mistral", auth=auth)
        return cls(conf.mistral.url, sess)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self._session.request(f"{self.url}{path}", method, raise_exc=False,
                                         authenticated=None, **kwargs)
        except ks_exc.ClientException as exc:
            raise MistralUnavailable(f"{method} {path}: {exc}") from exc
        return resp

    def complete(self, action_execution_id: str, state: str, output: dict[str, Any]) -> bool:
        """Complete an async action; False when it was already completed (or is gone)."""
        resp = self._request("PUT", f"/action_executions/{action_execution_id}",
                             json={"state": state, "output": output})
        if resp.status_code == 200:
            return True
        if resp.status_code == 404 or "already completed" in resp.text:
            return False
        raise MistralUnavailable(f"PUT action execution {action_execution_id}: "
                                 f"{resp.status_code} {resp.text[:300]}")

    def running_actions(self, name: str, **match: Any) -> list[dict[str, Any]]:
        """RUNNING action executions named ``name`` whose input has the ``match`` values."""
        resp = self._request("GET", "/action_executions", params={
            "name": name, "state": "RUNNING", "limit": "1000"})
        if resp.status_code != 200:
            raise MistralUnavailable(f"GET action executions: {resp.status_code}")
        found = []
        for action in resp.json().get("action_executions", []):
            raw = action.get("input")
            action["input"] = json.loads(raw or "{}") if isinstance(raw, str) else raw or {}
            if all(action["input"].get(k) == v for k, v in match.items()):
                found.append(action)
        return found

    def executions(self, workflow_name: str, limit: int = 500) -> list[dict[str, Any]]:
        """Newest executions of a workflow (with their input), newest first."""
        resp = self._request("GET", "/executions", params={
            "workflow_name": workflow_name, "sort_keys": "created_at,id",
            "sort_dirs": "desc,desc", "limit": str(limit)})
        if resp.status_code != 200:
            raise MistralUnavailable(f"GET executions: {resp.status_code} {resp.text[:300]}")
        executions = list(resp.json().get("executions", []))
        for execution in executions:
            raw = execution.get("input")
            if isinstance(raw, str):
                execution["input"] = json.loads(raw or "{}")
        return executions

    def execution(self, execution_id: str) -> dict[str, Any]:
        resp = self._request("GET", f"/executions/{execution_id}")
        if resp.status_code != 200:
            raise MistralUnavailable(f"GET execution {execution_id}: {resp.status_code}")
        body: dict[str, Any] = resp.json()
        if isinstance(body.get("input"), str):
            body["input"] = json.loads(body["input"] or "{}")
        return body

    def subworkflows(self, task_execution_id: str, state: str = "RUNNING"
                     ) -> list[dict[str, Any]]:
        """Sub-workflow executions started by one task execution (e.g. with-items items)."""
        resp = self._request("GET", "/executions", params={
            "task_execution_id": task_execution_id, "state": state, "limit": "1000"})
        if resp.status_code != 200:
            raise MistralUnavailable(f"GET executions: {resp.status_code} {resp.text[:300]}")
        return list(resp.json().get("executions", []))

    def cancel(self, execution_id: str, reason: str) -> bool:
        """Cancel a running execution; False when it already ended (or is gone)."""
        resp = self._request("PUT", f"/executions/{execution_id}",
                             json={"state": "CANCELLED", "state_info": reason})
        if resp.status_code == 200:
            return True
        if resp.status_code in (400, 404, 409):
            return False
        raise MistralUnavailable(f"PUT execution {execution_id}: {resp.status_code} "
                                 f"{resp.text[:300]}")
