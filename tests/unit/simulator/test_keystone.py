"""Keystone v3 of the simulator: version documents, password/token auth, validation."""

from __future__ import annotations


def _password(user="admin", password="secret", project="admin"):
    auth = {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": {"name": "Default"}, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return {"auth": auth}


def test_version_documents(api):
    root = api.call("identity", "GET", "/", token=None)
    assert root.status_code == 300
    assert root.json["versions"]["values"][0]["id"].startswith("v3")
    v3 = api.call("identity", "GET", "/v3", token=None)
    assert v3.status_code == 200
    assert v3.json["version"]["links"][0]["href"] == "http://sim.test/v3/"


def test_password_auth_returns_scoped_token_with_catalog(api, sim):
    sim.identity.add_endpoint("compute", "nova", "http://nova.test/v2.1")
    sim.identity.add_endpoint("image", "glance", "http://glance.test")
    resp = api.call("identity", "POST", "/v3/auth/tokens", _password(), token=None)
    assert resp.status_code == 201
    assert resp.headers["X-Subject-Token"]
    token = resp.json["token"]
    assert token["project"]["name"] == "admin"
    assert {r["name"] for r in token["roles"]} >= {"admin"}
    catalog = {entry["type"]: entry for entry in token["catalog"]}
    assert set(catalog) == {"compute", "image"}
    endpoints = catalog["compute"]["endpoints"]
    assert sorted(e["interface"] for e in endpoints) == ["admin", "internal", "public"]
    assert {e["region_id"] for e in endpoints} == {"RegionOne"}
    assert {e["url"] for e in endpoints} == {"http://nova.test/v2.1"}


def test_wrong_password_and_unknown_project_are_401(api):
    assert api.call("identity", "POST", "/v3/auth/tokens",
                    _password(password="wrong"), token=None).status_code == 401
    assert api.call("identity", "POST", "/v3/auth/tokens",
                    _password(project="nope"), token=None).status_code == 401


def test_unscoped_token_has_no_catalog_and_token_method_rescopes(api):
    unscoped = api.call("identity", "POST", "/v3/auth/tokens", _password(project=None),
                        token=None)
    assert unscoped.status_code == 201
    assert "catalog" not in unscoped.json["token"]
    body = {"auth": {"identity": {"methods": ["token"],
                                  "token": {"id": unscoped.headers["X-Subject-Token"]}},
                     "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}}
    scoped = api.call("identity", "POST", "/v3/auth/tokens", body, token=None)
    assert scoped.status_code == 201
    assert scoped.json["token"]["project"]["name"] == "demo"
    assert scoped.json["token"]["audit_ids"] == unscoped.json["token"]["audit_ids"]


def test_token_validation(api):
    subject = api.token()
    ok = api.call("identity", "GET", "/v3/auth/tokens", headers={"X-Subject-Token": subject})
    assert ok.status_code == 200
    assert ok.json["token"]["user"]["name"] == "admin"
    missing = api.call("identity", "GET", "/v3/auth/tokens",
                       headers={"X-Subject-Token": "bogus"})
    assert missing.status_code == 404
    no_auth = api.call("identity", "GET", "/v3/auth/tokens", token=None,
                       headers={"X-Subject-Token": subject})
    assert no_auth.status_code == 401


def test_revoked_token_is_refused_by_nova(api, sim):
    assert api.nova("GET", "/os-services").status_code == 200
    sim.identity.revoke_all()
    resp = api.nova("GET", "/os-services")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == 401
