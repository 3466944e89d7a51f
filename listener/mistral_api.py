"""A narrow facade over Mistral's v2 REST API: one method per call, errors translated here.

Built on a keystoneauth Adapter (Keystone, or ``auth_type = none`` plus an endpoint)::

    api = MistralAPI.from_conf(conf)
    execution = api.start_execution(incident_id, WORKFLOW_NAME, workflow_input)

python-mistralclient cannot create an execution with a chosen id (field notes), hence raw
calls; JSON fields Mistral serves as strings (input, output, params) are decoded here.
"""

from __future__ import annotations

import json
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg

__all__ = ["ActionAlreadyCompleted", "MistralAPI", "MistralError", "MistralNotFound",
           "MistralRejected", "MistralUnavailable"]

_JSON_FIELDS = ("input", "output", "params")


class MistralError(RuntimeError):
    """Mistral could not do what was asked."""


class MistralUnavailable(MistralError):
    """Transient: Mistral (or Keystone) unreachable, timing out or answering 5xx."""


class MistralNotFound(MistralError):
    """404: the execution, workflow or action execution does not exist."""


class MistralRejected(MistralError):
    """4xx other than 404: the request itself is wrong (bad input, unknown action...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class ActionAlreadyCompleted(MistralError):
    """The async action execution was already completed (one of several PUTs won)."""


def _fault(exc: ks_exc.HttpError) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            return str(response.json().get("faultstring", response.text))
        except ValueError:
            return str(response.text)[:500]
    return str(exc)


def _decode(resource: dict[str, Any]) -> dict[str, Any]:
    out = dict(resource)
    for name in _JSON_FIELDS:
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = json.loads(value)
            except ValueError:
                pass
    return out


class MistralAPI:
    """Mistral's v2 API through a keystoneauth adapter (thread-safe: requests session)."""

    def __init__(self, adapter: ks_adapter.Adapter) -> None:
        self._adapter = adapter

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, group: str = "mistral") -> MistralAPI:
        auth = ks_loading.load_auth_from_conf_options(conf, group)
        session = ks_loading.load_session_from_conf_options(conf, group, auth=auth)
        adapter = ks_loading.load_adapter_from_conf_options(conf, group, session=session,
                                                           auth=auth)
        return cls(adapter)

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> MistralAPI:
        """No authentication, a fixed endpoint (tests, ``auth_enable = False`` Mistrals)."""
        session = ks_session.Session(timeout=timeout)
        return cls(ks_adapter.Adapter(session, endpoint_override=url.rstrip("/")))

    def endpoint(self) -> str:
        """The v2 API URL this facade talks to (from the catalog or endpoint_override)."""
        return str(self._adapter.get_endpoint()).rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        """Headers authenticating a raw request (none when Mistral runs without auth)."""
        token = self._adapter.get_token() if self._adapter.auth else None
        return {"X-Auth-Token": token} if token else {}

    # -- executions -------------------------------------------------------------------------
    def start_execution(self, execution_id: str, workflow: str,
                        workflow_input: dict[str, Any]) -> dict[str, Any]:
        """POST /executions with our id; for a known id Mistral returns the original one."""
        return _decode(self._call("POST", "/executions", json={
            "id": execution_id, "workflow_name": workflow, "input": workflow_input}))

    def get_execution(self, execution_id: str) -> dict[str, Any]:
        return _decode(self._call("GET", f"/executions/{execution_id}"))

    def list_executions(self, **filters: str) -> list[dict[str, Any]]:
        body = self._call("GET", "/executions", params=filters)
        return [_decode(e) for e in body.get("executions", [])]

    # -- action executions ------------------------------------------------------------------
    def list_action_executions(self, name: str, state: str = "RUNNING") -> list[dict[str, Any]]:
        body = self._call("GET", "/action_executions", params={"name": name, "state": state})
        return [_decode(a) for a in body.get("action_executions", [])]

    def complete_action(self, action_execution_id: str, output: dict[str, Any],
                        state: str = "SUCCESS") -> dict[str, Any]:
        """PUT the result of an async action; ActionAlreadyCompleted if another PUT won."""
        try:
            return _decode(self._call("PUT", f"/action_executions/{action_execution_id}",
                                      json={"state": state, "output": output}))
        except MistralUnavailable as exc:
            if "already completed" in str(exc):
                raise ActionAlreadyCompleted(str(exc)) from exc
            raise

    def run_action(self, name: str, action_input: dict[str, Any] | None = None) -> Any:
        """Run an ad-hoc action synchronously (not stored) and return its result."""
        body = _decode(self._call("POST", "/action_executions", json={
            "name": name, "input": action_input or {},
            "params": {"run_sync": True, "save_result": False}}))
        if body.get("state") != "SUCCESS":
            raise MistralError(f"action {name} ended {body.get('state')}: "
                               f"{body.get('state_info')}")
        output = body.get("output") or {}
        return output.get("result") if isinstance(output, dict) else output

    # -- workflows --------------------------------------------------------------------------
    def get_workflow(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/workflows/{name}")

    def create_workflows(self, definition: str) -> list[dict[str, Any]]:
        body = self._call("POST", "/workflows", data=definition.encode("utf-8"),
                          headers={"Content-Type": "text/plain"})
        return list(body.get("workflows", []))

    def update_workflows(self, definition: str) -> list[dict[str, Any]]:
        body = self._call("PUT", "/workflows", data=definition.encode("utf-8"),
                          headers={"Content-Type": "text/plain"})
        return list(body.get("workflows", []))

    # -- internals --------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self._adapter.request(path, method, **kwargs)
        except ks_exc.NotFound as exc:
            raise MistralNotFound(_fault(exc)) from exc
        except ks_exc.HttpError as exc:
            status = int(exc.http_status or 0)
            if status >= 500 or status in (408, 429):
                raise MistralUnavailable(f"HTTP {status}: {_fault(exc)}") from exc
            raise MistralRejected(status, _fault(exc)) from exc
        except ks_exc.ClientException as exc:  # connect failures, timeouts, Keystone down
            raise MistralUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not resp.content:
            return {}
        result: dict[str, Any] = resp.json()
        return result
