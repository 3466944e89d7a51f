"""Placement's JSON: microversion negotiation, errors, the ``resources`` query, and the
shapes of allocation candidates per microversion."""

from __future__ import annotations

import re
from typing import Any

import webob

from simulator.api.wsgi import Call, json_response
from simulator.errors import NovaError
from simulator.placement import RESOURCE_CLASSES, Amounts, Provider

MIN_VERSION, MAX_VERSION = (1, 0), (1, 39)
_VERSION = re.compile(r"^1\.(0|[1-9]\d*)$")
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 406: "Not Acceptable"}


def requested_version(req: webob.Request) -> tuple[int, int]:
    """The placement microversion a request asks for (1.0 without a header)."""
    raw = None
    for item in req.headers.get("OpenStack-API-Version", "").split(","):
        parts = item.strip().split()
        if len(parts) == 2 and parts[0].lower() == "placement":
            raw = parts[1].strip()
    if raw is None:
        return MIN_VERSION
    if raw.lower() == "latest":
        return MAX_VERSION
    match = _VERSION.match(raw)
    if match is None:
        raise NovaError(400, f"invalid version string: {raw}")
    version = (1, int(match.group(1)))
    if version > MAX_VERSION:
        raise NovaError(406, f"Unacceptable version header: {raw}")
    return version


def error(code: int, detail: str, headers: dict[str, str]) -> webob.Response:
    """Placement's error body."""
    return json_response(code, {"errors": [{
        "status": code, "title": _TITLES.get(code, "Error"), "detail": detail,
        "code": "placement.undefined_code"}]}, headers)


def parse_resources(raw: str | None) -> Amounts:
    """``VCPU:2,MEMORY_MB:1024,DISK_GB:10`` -> amounts; 400 for anything else."""
    amounts = dict.fromkeys(RESOURCE_CLASSES, 0)
    for item in (raw or "").split(","):
        name, _, value = item.partition(":")
        if name not in amounts or not value.isdigit() or int(value) < 1:
            raise NovaError(400, f"Badly formed resources parameter. Got {raw!r}.")
        amounts[name] = int(value)
    return amounts["VCPU"], amounts["MEMORY_MB"], amounts["DISK_GB"]


def resources(amounts: Amounts) -> dict[str, int]:
    """Amounts as Placement's ``resources`` object (zero amounts left out)."""
    return {rc: amounts[i] for i, rc in enumerate(RESOURCE_CLASSES) if amounts[i]}


def allocation_request(call: Call, provider: Provider, amounts: Amounts) -> dict[str, Any]:
    """One allocation request (a list before 1.12, a dict after; mappings from 1.34)."""
    resources_ = resources(amounts)
    if not call.at_least(1, 12):
        return {"allocations": [{"resource_provider": {"uuid": provider.uuid},
                                 "resources": resources_}]}
    request: dict[str, Any] = {"allocations": {provider.uuid: {"resources": resources_}}}
    if call.at_least(1, 34):
        request["mappings"] = {"": [provider.uuid]}
    return request


def provider_summary(call: Call, provider: Provider, amounts: Amounts, traits: set[str]
                     ) -> dict[str, Any]:
    """A provider summary (every class from 1.27, traits from 1.17, tree from 1.29)."""
    # Before 1.27 a summary lists only the requested classes.
    shown = [i for i, rc in enumerate(RESOURCE_CLASSES) if rc in provider.inventories
             and (amounts[i] or call.at_least(1, 27))]
    summary: dict[str, Any] = {"resources": {
        RESOURCE_CLASSES[i]: {
            "capacity": provider.inventories[RESOURCE_CLASSES[i]].capacity,
            "used": provider.used[i]} for i in shown}}
    if call.at_least(1, 17):
        summary["traits"] = sorted(traits)
    if call.at_least(1, 29):
        summary.update(parent_provider_uuid=None, root_provider_uuid=provider.uuid)
    return summary
