"""The action pack's Mistral facade: the few REST calls our actions make (complete async
actions, list executions for the guard and the re-plan, cancel stuck sub-workflows).

Usage::

    api = MistralAPI.from_config(conf)
    api.complete(action_execution_id, "SUCCESS", {"result": "evacuated", ...})

Errors are the contract's family (contract.py, the pinned copy of notifications/contract.py):
MistralUnavailable for unreachable or 5xx, MistralNotFound, MistralRejected for other 4xx.
A plain keystoneauth session, because the pack runs in Mistral's virtualenv and needs four
calls.
"""

from __future__ import annotations

import json
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from .contract import (
    ActionAlreadyCompleted,
    MistralError,
    MistralNotFound,
    MistralRejected,
    MistralUnavailable,
    error_for,
)

__all__ = ["MistralAPI", "MistralError", "MistralNotFound", "MistralRejected",
           "MistralUnavailable"]


#: Rows per list request (Mistral 23's [api] max_limit).
PAGE = 1000


def _decoded(resource: dict[str, Any]) -> dict[str, Any]:
    raw = resource.get("input")
    if isinstance(raw, str):
        resource["input"] = json.loads(raw or "{}")
    return resource


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
        """The body of a 2xx answer; the contract's exception otherwise."""
        try:
            resp = self._session.request(f"{self.url}{path}", method, raise_exc=False,
                                         authenticated=None, **kwargs)
        except ks_exc.ClientException as exc:
            raise MistralUnavailable(f"{method} {path}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise error_for(resp.status_code, f"{method} {path}: {resp.text[:300]}")
        return resp.json() if resp.content else {}

    def complete(self, action_execution_id: str, state: str, output: dict[str, Any]) -> bool:
        """Complete an async action; False when it was already completed (or is gone)."""
        try:
            self._request("PUT", f"/action_executions/{action_execution_id}",
                          json={"state": state, "output": output})
        except (ActionAlreadyCompleted, MistralNotFound):
            return False
        return True

    def _pages(self, path: str, key: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every row of a Mistral list, page by page (marker/limit: ``[api] max_limit`` is
        1,000 in Mistral 23, so one request never sees the 1,001st row)."""
        rows: list[dict[str, Any]] = []
        marker = None
        while True:
            page_params = {**params, "limit": str(PAGE), "sort_keys": "created_at,id",
                           "sort_dirs": "asc,asc"}
            if marker:
                page_params["marker"] = marker
            page = list(self._request("GET", path, params=page_params).get(key, []))
            rows.extend(page)
            if len(page) < PAGE:
                return rows
            marker = page[-1]["id"]

    def running_actions(self, name: str, **match: Any) -> list[dict[str, Any]]:
        """RUNNING action executions named ``name`` whose input has the ``match`` values."""
        found = []
        for action in self._pages("/action_executions", "action_executions",
                                  {"name": name, "state": "RUNNING"}):
            _decoded(action)
            action["input"] = action.get("input") or {}
            if all(action["input"].get(k) == v for k, v in match.items()):
                found.append(action)
        return found

    def executions(self, workflow_name: str, limit: int = 500) -> list[dict[str, Any]]:
        """Newest executions of a workflow (with their input), newest first."""
        body = self._request("GET", "/executions", params={
            "workflow_name": workflow_name, "sort_keys": "created_at,id",
            "sort_dirs": "desc,desc", "limit": str(limit)})
        return [_decoded(e) for e in body.get("executions", [])]

    def execution(self, execution_id: str) -> dict[str, Any]:
        return _decoded(self._request("GET", f"/executions/{execution_id}"))

    def subworkflows(self, task_execution_id: str, state: str = "RUNNING"
                     ) -> list[dict[str, Any]]:
        """Sub-workflow executions started by one task execution (e.g. with-items items)."""
        return self._pages("/executions", "executions",
                           {"task_execution_id": task_execution_id, "state": state})

    def cancel(self, execution_id: str, reason: str) -> bool:
        """Cancel a running execution; False when it already ended (or is gone)."""
        try:
            self._request("PUT", f"/executions/{execution_id}",
                          json={"state": "CANCELLED", "state_info": reason})
        except MistralNotFound:
            return False
        except MistralRejected as exc:
            if exc.status in (400, 409):  # already ended: nothing to cancel
                return False
            raise
        return True
