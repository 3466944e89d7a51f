"""Nova's microversion negotiation and version documents."""

from __future__ import annotations

import re
from typing import Any

import webob

from simulator.errors import NovaError

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 104)
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
UPDATED = "2013-07-23T11:33:21Z"


def fmt(version: tuple[int, int]) -> str:
    """(2, 53) -> "2.53"."""
    return f"{version[0]}.{version[1]}"


def requested(req: webob.Request) -> tuple[int, int]:
    """The microversion a request asks for (the new header wins over the legacy one)."""
    raw: str | None = None
    for item in req.headers.get("OpenStack-API-Version", "").split(","):
        parts = item.strip().split()
        if len(parts) == 2 and parts[0].lower() == "compute":
            raw = parts[1]
    if raw is None:
        raw = req.headers.get("X-OpenStack-Nova-API-Version")
    if raw is None:
        return MIN_VERSION
    raw = raw.strip()
    if raw.lower() == "latest":
        return MAX_VERSION
    match = _FORMAT.match(raw)
    if match is None:
        raise NovaError(400, f"API Version String {raw} is of invalid format. Must be of "
                             "format MajorNum.MinorNum.")
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NovaError(406, f"Version {raw} is not supported by the API. Minimum is "
                             f"{fmt(MIN_VERSION)} and maximum is {fmt(MAX_VERSION)}.")
    return version


def response_headers(version: tuple[int, int]) -> dict[str, str]:
    """Headers Nova adds to every versioned response."""
    return {"OpenStack-API-Version": f"compute {fmt(version)}",
            "X-OpenStack-Nova-API-Version": fmt(version),
            "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"}


def _v21(root: str) -> dict[str, Any]:
    return {"id": "v2.1", "status": "CURRENT", "version": fmt(MAX_VERSION),
            "min_version": fmt(MIN_VERSION), "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{root}/v2.1/"}]}


def versions_document(root: str) -> dict[str, Any]:
    """GET / : every API version."""
    v20 = {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
           "updated": "2011-01-21T11:33:21Z",
           "links": [{"rel": "self", "href": f"{root}/v2/"}]}
    return {"versions": [v20, _v21(root)]}


def version_document(root: str) -> dict[str, Any]:
    """GET /v2.1 : this version."""
    doc = _v21(root)
    doc["links"].append({"rel": "describedby", "type": "text/html",
                         "href": "http://docs.openstack.org/"})
    doc["media-types"] = [{"base": "application/json",
                           "type": "application/vnd.openstack.compute+json;version=2.1"}]
    return {"version": doc}
