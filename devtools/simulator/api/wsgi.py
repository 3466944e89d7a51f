"""A tiny WSGI toolkit on WebOb: regex routes, JSON replies, the request context (Call)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import webob

from simulator.errors import NovaError
from simulator.payloads import Actor

Reply = tuple[int, Any]
"""(status, JSON body or None)"""


@dataclass
class Call:
    """One API request as handlers see it."""

    req: webob.Request
    base_url: str  # the service root the client used, e.g. http://127.0.0.1:8774/v2.1
    version: tuple[int, int] = (2, 1)
    actor: Actor = field(default_factory=lambda: Actor("", "", ""))
    is_admin: bool = False
    token: dict[str, Any] | None = None

    def at_least(self, major: int, minor: int) -> bool:
        """True when the request's microversion is >= major.minor."""
        return self.version >= (major, minor)

    def body(self) -> dict[str, Any]:
        """The JSON body; 400 when it is not a JSON object."""
        try:
            data = json.loads(self.req.body or b"null")
        except ValueError as exc:
            raise NovaError(400, "Malformed request body") from exc
        if not isinstance(data, dict):
            raise NovaError(400, "Malformed request body")
        return data

    def param(self, name: str) -> str | None:
        """A query parameter (the last one if repeated)."""
        values = self.req.GET.getall(name)
        return str(values[-1]) if values else None


Handler = Callable[..., Reply]


class Router:
    """Routes ``(method, path regex)`` to handlers called as ``handler(call, **groups)``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler``; ``pattern`` is anchored, named groups become arguments."""
        self._routes.append((method, re.compile(f"^{pattern}/?$"), handler))

    def dispatch(self, call: Call, path: str) -> Reply:
        """Run the matching handler; 404 for an unknown path, 405 for a wrong method."""
        path_matched = False
        for method, regex, handler in self._routes:
            match = regex.match(path)
            if match is None:
                continue
            path_matched = True
            if method == call.req.method or (method == "GET" and call.req.method == "HEAD"):
                return handler(call, **match.groupdict())
        if path_matched:
            raise NovaError(405, "The method specified is not allowed for this resource.")
        raise NovaError(404, "The resource could not be found.")


def json_response(status: int, body: Any, headers: dict[str, str] | None = None
                  ) -> webob.Response:
    """A JSON response (an empty body for ``None``)."""
    response = webob.Response(status=status)
    if body is not None:
        response.content_type = "application/json"
        # orjson: listing 1,000 servers a page must not make the stand-in the bottleneck
        response.body = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    else:
        response.content_type = None
        response.body = b""
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def truthy(value: str | None) -> bool:
    """oslo's bool_from_string, as Nova applies it to all_tenants and friends."""
    if value is None:
        return False
    return value.strip().lower() not in ("0", "false", "f", "no", "n", "off")


class LoggedApp:
    """Records every request of ``app`` in the request log (microversion from the reply)."""

    def __init__(self, app: Callable[[webob.Request], webob.Response], service: str,
                 log: Any) -> None:
        self.app = app
        self.service = service
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started, clock = time.time(), time.perf_counter()
        req = webob.Request(environ)
        action = server_action(req)
        response = self.app(req)
        self.log.add(self.service, req.method, req.path_info,
                     response.headers.get("X-OpenStack-Nova-API-Version"),
                     response.status_code, time.perf_counter() - clock, started,
                     action=action)
        return response(environ, start_response)


_ACTION_PATH = re.compile(r"/servers/[^/]+/action/?$")


def server_action(req: webob.Request) -> str | None:
    """The action name of ``POST /servers/{id}/action`` (the body's single key, e.g.
    "evacuate"); never its arguments, which may carry an adminPass. None otherwise."""
    if req.method != "POST" or not _ACTION_PATH.search(req.path_info):
        return None
    try:
        body = json.loads(req.body or b"null")  # webob keeps the body readable for the app
    except ValueError:
        return None
    if not isinstance(body, dict) or len(body) != 1:
        return None
    name = next(iter(body))
    return name if len(name) <= 64 else None
