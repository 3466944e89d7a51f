"""Keystone v3: version documents, POST/GET/HEAD /v3/auth/tokens (password, token)."""

from __future__ import annotations

from typing import Any

import webob

from simulator.api.wsgi import json_response
from simulator.identity import Identity

_MEDIA = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def _unauthorized(message: str = "The request you have made requires authentication."
                  ) -> webob.Response:
    return json_response(401, {"error": {"code": 401, "title": "Unauthorized",
                                         "message": message}},
                         {"WWW-Authenticate": 'Keystone uri="/"'})


class KeystoneApp:
    """The identity service WSGI app."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def _v3(self, root: str) -> dict[str, Any]:
        return {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{root}/v3/"}], "media-types": _MEDIA}

    def handle(self, req: webob.Request) -> webob.Response:
        """Route one request."""
        path = req.path_info.rstrip("/")
        root = req.host_url
        if path == "":
            return json_response(300, {"versions": {"values": [self._v3(root)]}})
        if path == "/v3":
            return json_response(200, {"version": self._v3(root)})
        if path != "/v3/auth/tokens":
            return json_response(404, {"error": {"code": 404, "title": "Not Found",
                                                 "message": "Could not find resource."}})
        if req.method == "POST":
            return self._authenticate(req)
        if req.method in ("GET", "HEAD"):
            if self.identity.validate(req.headers.get("X-Auth-Token")) is None:
                return _unauthorized()
            subject = req.headers.get("X-Subject-Token")
            token = self.identity.validate(subject)
            if token is None:
                return json_response(404, {"error": {
                    "code": 404, "title": "Not Found",
                    "message": f"Could not find token: {subject}."}})
            return json_response(200, {"token": token}, {"X-Subject-Token": subject or ""})
        return json_response(405, {"error": {"code": 405, "title": "Method Not Allowed",
                                             "message": "Method not allowed."}})

    def _authenticate(self, req: webob.Request) -> webob.Response:
        try:
            auth = req.json["auth"]
            methods = list(auth["identity"]["methods"])
        except (ValueError, KeyError, TypeError):
            return json_response(400, {"error": {"code": 400, "title": "Bad Request",
                                                 "message": "Invalid auth request."}})
        user: dict[str, Any] | None = None
        audit = None
        if "password" in methods:
            spec = auth["identity"].get("password", {}).get("user", {})
            user = self.identity.check_password(spec.get("name"), spec.get("id"),
                                                spec.get("password"))
        elif "token" in methods:
            old = self.identity.validate(auth["identity"].get("token", {}).get("id"))
            if old is not None:
                user = self.identity.users.get(old["user"]["name"])
                audit = old["audit_ids"][0]
        if user is None:
            return _unauthorized()
        project = self._project(auth.get("scope"), user)
        if project is False:
            return _unauthorized("User has no access to project")
        scope = project if isinstance(project, str) else None
        token_id, token = self.identity.issue(user, scope, methods, audit)
        return json_response(201, {"token": token}, {"X-Subject-Token": token_id})

    def _project(self, scope: Any, user: dict[str, Any]) -> str | bool | None:
        """Project name from the scope; False when the user may not use it."""
        if not isinstance(scope, dict) or "project" not in scope:
            return None
        wanted = scope["project"]
        by_id = {v: k for k, v in self.identity.projects.items()}
        name = wanted.get("name") or by_id.get(wanted.get("id", ""))
        admin = "admin" in user.get("roles", [])
        if name not in self.identity.projects or (name != user["project"] and not admin):
            return False
        return str(name)
