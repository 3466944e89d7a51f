"""The Nova compute API app: version documents, token check, injected faults, routing."""

from __future__ import annotations

import logging
import re
import time

import webob

from simulator.api import microversion
from simulator.api.wsgi import Call, Router, json_response, server_action
from simulator.errors import NovaError
from simulator.faults import Dice
from simulator.identity import Identity
from simulator.payloads import Actor

LOG = logging.getLogger(__name__)
_PROJECT_IN_PATH = re.compile(r"^/[0-9a-f]{32}(?=/|$)")


def unauthorized() -> webob.Response:
    """keystonemiddleware's 401."""
    return json_response(401, {"error": {
        "code": 401, "title": "Unauthorized",
        "message": "The request you have made requires authentication."}},
        {"WWW-Authenticate": 'Keystone uri="/"'})


def authorize(identity: Identity, req: webob.Request) -> Call | None:
    """A Call carrying the token's user and project, or None for a bad token."""
    token = identity.validate(req.headers.get("X-Auth-Token"))
    if token is None or "project" not in token:
        return None
    request_id = "req-" + req.headers.get("X-Request-Id", "").removeprefix("req-") \
        if req.headers.get("X-Request-Id") else f"req-{id(req):x}-{time.monotonic_ns()}"
    roles = {r["name"] for r in token.get("roles", [])}
    return Call(req=req, base_url="", token=token, is_admin="admin" in roles,
                actor=Actor(token["user"]["id"], token["project"]["id"], request_id))


class NovaApp:
    """``/`` and ``/v2.1`` version documents; everything else under /v2.1 needs a token."""

    def __init__(self, identity: Identity, dice: Dice, router: Router) -> None:
        self.identity = identity
        self.dice = dice
        self.router = router

    def __call__(self, req: webob.Request) -> webob.Response:
        root = req.host_url + req.script_name
        path = req.path_info
        if path.rstrip("/") == "":
            return json_response(200, microversion.versions_document(root))
        if not (path == "/v2.1" or path.startswith("/v2.1/")):
            return json_response(404, NovaError(404, "Not found").body())
        rest = path[len("/v2.1"):]
        if rest.strip("/") == "":
            return json_response(200, microversion.version_document(root))
        call = authorize(self.identity, req)
        if call is None:
            return unauthorized()
        call.base_url = f"{root}/v2.1"
        rest = _PROJECT_IN_PATH.sub("", rest)
        headers: dict[str, str] = {"X-Openstack-Request-Id": call.actor.request_id}
        try:
            call.version = microversion.requested(req)
            headers.update(microversion.response_headers(call.version))
            self._inject(req)
            status, body = self.router.dispatch(call, rest)
        except NovaError as exc:
            return json_response(exc.code, exc.body(), headers)
        except Exception:
            LOG.exception("unexpected error in %s %s", req.method, path)
            return json_response(500, {"computeFault": {
                "code": 500, "message": "Unexpected API Error."}}, headers)
        return json_response(status, body, headers)

    def _inject(self, req: webob.Request) -> None:
        """Injected slowness and server errors, as a broken API node would give them."""
        if self.dice.roll("slow"):
            time.sleep(self.dice.rates.slow_seconds)
        if server_action(req) == "evacuate" and self.dice.take("evacuate_5xx"):
            raise NovaError(500, "Unexpected API Error (an evacuate refused before Nova "
                                 "accepted it).\n<class 'simulator.InjectedFault'>")
        if self.dice.roll("http_5xx"):
            raise NovaError(500, "Unexpected API Error. Please report this at "
                                 "http://bugs.launchpad.net/nova/ and attach the Nova API "
                                 "log if possible.\n<class 'simulator.InjectedFault'>")
