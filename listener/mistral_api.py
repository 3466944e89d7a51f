"""The listener's one Mistral facade: python-mistralclient behind a keystoneauth adapter.

::

    api = MistralAPI.from_conf(conf)            # or MistralAPI.from_url(url) without auth
    execution = api.start_execution(incident_id, contract.RECOVER_HOST, workflow_input)
    waits = api.list_action_executions(contract.WAIT_EVACUATION, fields=["id", "input"])

Workflows, executions, tasks and action executions go through python-mistralclient (its
session is our [mistral] keystoneauth adapter, so auth, endpoint and timeouts come from the
config). One raw keystoneauth call remains: creating an execution with a chosen id, because
mistralclient 6.3's ``executions.create(..., id=X)`` puts the id into ``params`` and Mistral
generates a random one (field notes); the id is what makes a duplicate host-down a no-op.
Lists are read page by page (``marker``/``limit``) to the end unless a limit is given. Errors
are the contract's family (notifications/contract.py); JSON fields Mistral serves as text
(input, output, params, published) are decoded here.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from mistralclient.api import base as mc_base
from mistralclient.api.v2 import client as mc_client
from oslo_config import cfg

from notifications.contract import (
    ActionAlreadyCompleted,
    MistralError,
    MistralNotFound,
    MistralRejected,
    MistralUnavailable,
    error_for,
)

__all__ = ["ActionAlreadyCompleted", "MistralAPI", "MistralError", "MistralNotFound",
           "MistralRejected", "MistralUnavailable"]

_JSON_FIELDS = ("input", "output", "params", "published")
PAGE_SIZE = 1000
_T = TypeVar("_T")


def _decode(resource: Any) -> dict[str, Any]:
    out = dict(resource.to_dict() if hasattr(resource, "to_dict") else resource)
    for name in _JSON_FIELDS:
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = json.loads(value)
            except ValueError:
                pass
    return out


def _fault(exc: ks_exc.HttpError) -> str:
    response = getattr(exc, "response", None)
    if response is None:
        return str(exc)
    try:
        return str(response.json().get("faultstring", response.text))
    except ValueError:
        return str(response.text)[:500]


class MistralAPI:
    """Mistral's v2 API (thread-safe: one requests session behind the adapter)."""

    def __init__(self, adapter: ks_adapter.Adapter) -> None:
        self._adapter = adapter
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, group: str = "mistral",
                  timeout: float | None = None) -> MistralAPI:
        """From the [mistral] options; ``timeout`` overrides the session's."""
        auth = ks_loading.load_auth_from_conf_options(conf, group)
        session = ks_loading.load_session_from_conf_options(conf, group, auth=auth)
        if timeout is not None:
            session.timeout = timeout
        return cls(ks_loading.load_adapter_from_conf_options(conf, group, session=session,
                                                             auth=auth))

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> MistralAPI:
        """No authentication, a fixed endpoint (tests, ``auth_enable = False`` Mistrals)."""
        session = ks_session.Session(timeout=timeout)
        return cls(ks_adapter.Adapter(session, endpoint_override=url.rstrip("/")))

    def endpoint(self) -> str:
        """The v2 API URL (from the catalog or endpoint_override)."""
        return str(self._guard(self._adapter.get_endpoint)).rstrip("/")

    # -- executions -------------------------------------------------------------------------
    def start_execution(self, execution_id: str, workflow: str,
                        workflow_input: dict[str, Any]) -> dict[str, Any]:
        """POST /executions with our id (raw: see the module docstring); for a known id
        Mistral returns the original execution."""
        try:
            resp = self._adapter.post("/executions", json={
                "id": execution_id, "workflow_name": workflow, "input": workflow_input})
        except ks_exc.HttpError as exc:
            raise error_for(int(exc.http_status or 0), _fault(exc)) from exc
        except ks_exc.ClientException as exc:
            raise MistralUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return _decode(resp.json())

    def get_execution(self, execution_id: str) -> dict[str, Any]:
        return _decode(self._call(lambda c: c.executions.get(execution_id)))

    def list_executions(self, fields: Sequence[str] | None = None, limit: int | str | None = None,
                        **filters: str) -> list[dict[str, Any]]:
        """Executions matching ``filters`` (workflow_name, state, include_output...)."""
        return self._list(lambda c, **page: c.executions.list(**page, **filters),
                          fields, limit)

    def list_tasks(self, fields: Sequence[str] | None = None,
                   **filters: str) -> list[dict[str, Any]]:
        """Task executions matching ``filters`` (workflow_execution_id, name, state...)."""
        return self._list(lambda c, **page: c.tasks.list(**page, **filters), fields, None)

    def get_task(self, task_execution_id: str) -> dict[str, Any]:
        return _decode(self._call(lambda c: c.tasks.get(task_execution_id)))

    # -- action executions ------------------------------------------------------------------
    def list_action_executions(self, name: str, state: str | None = "RUNNING",
                               fields: Sequence[str] | None = None,
                               **filters: str) -> list[dict[str, Any]]:
        """Action executions named ``name`` (in ``state`` unless None) matching ``filters``."""
        if state:
            filters["state"] = state
        return self._list(lambda c, **page: c.action_executions.list(
            **page, name=name, **filters), fields, None)

    def list_task_action_executions(self, task_execution_id: str,
                                    fields: Sequence[str] | None = None
                                    ) -> list[dict[str, Any]]:
        """Every action execution of one task, unfiltered: Mistral 23 answers 500 to a name
        filter on the task-scoped list on PostgreSQL (it builds ``name = ARRAY[...]``), so
        callers filter by name themselves."""
        return self._list(lambda c, **page: c.action_executions.list(
            task_execution_id=task_execution_id, **page), fields, None)

    def complete_action(self, action_execution_id: str, output: dict[str, Any],
                        state: str = "SUCCESS") -> dict[str, Any]:
        """Complete an async action; ActionAlreadyCompleted if another PUT won."""
        return _decode(self._call(lambda c: c.action_executions.update(
            action_execution_id, state=state, output=output)))

    def start_action(self, name: str, action_input: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
        """Start an ad-hoc action on an executor, stored in Mistral; returns at once."""
        return _decode(self._call(lambda c: c.action_executions.create(
            name, action_input or {}, run_sync=False, save_result=True)))

    def get_action_execution(self, action_execution_id: str) -> dict[str, Any]:
        return _decode(self._call(lambda c: c.action_executions.get(action_execution_id)))

    def run_action(self, name: str, action_input: dict[str, Any] | None = None) -> Any:
        """Run an ad-hoc action synchronously (not stored) and return its result."""
        body = _decode(self._call(lambda c: c.action_executions.create(
            name, action_input or {}, run_sync=True, save_result=False)))
        if body.get("state") != "SUCCESS":
            raise MistralError(f"action {name} ended {body.get('state')}: "
                               f"{body.get('state_info')}")
        output = body.get("output") or {}
        return output.get("result") if isinstance(output, dict) else output

    # -- workflows --------------------------------------------------------------------------
    def get_workflow(self, name: str) -> dict[str, Any]:
        return _decode(self._call(lambda c: c.workflows.get(name)))

    def create_workflows(self, definition: str) -> list[dict[str, Any]]:
        # bytes: requests would encode a str body as latin-1
        return [_decode(w) for w in self._call(
            lambda c: c.workflows.create(definition.encode("utf-8")))]

    def update_workflows(self, definition: str) -> list[dict[str, Any]]:
        return [_decode(w) for w in self._call(
            lambda c: c.workflows.update(definition.encode("utf-8")))]

    # -- internals --------------------------------------------------------------------------
    def _list(self, page: Callable[..., list[Any]], fields: Sequence[str] | None,
              limit: int | str | None) -> list[dict[str, Any]]:
        """Every row (marker/limit pages by id), or at most ``limit`` rows."""
        wanted = list(fields) if fields else None
        if wanted is not None and "id" not in wanted:
            wanted.insert(0, "id")  # the marker of the next page
        size = int(limit) if limit else PAGE_SIZE
        rows: list[dict[str, Any]] = []
        marker = ""
        while True:
            got = [_decode(r) for r in self._call(
                functools.partial(page, marker=marker, limit=size, fields=wanted))]
            rows.extend(got)
            if limit or len(got) < size:
                return rows
            marker = str(got[-1]["id"])

    def _call(self, call: Callable[[Any], _T]) -> _T:
        client = self._mistralclient()
        try:
            return call(client)
        except mc_base.APIException as exc:
            raise error_for(int(exc.error_code or 0), str(exc.error_message)) from exc
        except ks_exc.ClientException as exc:  # connect failures, timeouts, Keystone down
            raise MistralUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _mistralclient(self) -> Any:
        """Built on first use: finding the endpoint may need Keystone."""
        with self._lock:
            if self._client is None:
                url = self.endpoint()
                self._client = mc_client.Client(mistral_url=url, session=self._adapter,
                                                enforce_raw_definitions=True)
            return self._client

    @staticmethod
    def _guard(call: Callable[[], _T]) -> _T:
        try:
            return call()
        except ks_exc.ClientException as exc:  # connect failures, timeouts, Keystone down
            raise MistralUnavailable(f"{type(exc).__name__}: {exc}") from exc
