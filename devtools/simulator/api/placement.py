"""The Placement API subset Nova deployments read: resource providers (inventories, usages,
aggregates, traits, allocations), a consumer's allocations and allocation candidates, with
``OpenStack-API-Version: placement 1.x`` microversions (1.0 to 1.39)."""

from __future__ import annotations

import logging
from typing import Any

import webob

from simulator.api import placement_views as views
from simulator.api.nova import authorize
from simulator.api.wsgi import Call, Reply, Router, json_response
from simulator.cloud import Cloud
from simulator.errors import NovaError
from simulator.identity import Identity
from simulator.placement import RESOURCE_CLASSES, Provider

LOG = logging.getLogger(__name__)


class PlacementApp:
    """The placement WSGI app (admin tokens only, as Placement's default policy)."""

    def __init__(self, cloud: Cloud, identity: Identity) -> None:
        self.cloud = cloud
        self.identity = identity
        self.router = Router()
        add, rp = self.router.add, "/resource_providers/(?P<rp_uuid>[^/]+)"
        add("GET", "/resource_providers", self.providers)
        add("GET", rp, self.provider)
        add("GET", f"{rp}/inventories", self.inventories)
        add("GET", f"{rp}/usages", self.usages)
        add("GET", f"{rp}/aggregates", self.aggregates)
        add("GET", f"{rp}/traits", self.traits)
        add("GET", f"{rp}/allocations", self.provider_allocations)
        add("GET", "/allocations/(?P<consumer>[^/]+)", self.allocations)
        add("GET", "/allocation_candidates", self.candidates)

    def __call__(self, req: webob.Request) -> webob.Response:
        headers = {"Vary": "openstack-api-version"}
        try:
            version = views.requested_version(req)
        except NovaError as exc:
            return views.error(exc.code, exc.message, headers)
        headers["OpenStack-API-Version"] = f"placement {version[0]}.{version[1]}"
        if req.path_info.rstrip("/") == "":
            return json_response(200, {"versions": [{
                "id": "v1.0", "max_version": "1.39", "min_version": "1.0",
                "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}]}, headers)
        call = authorize(self.identity, req)
        if call is None:
            return views.error(401, "The request you have made requires authentication.",
                          dict(headers, **{"WWW-Authenticate": 'Keystone uri="/"'}))
        if not call.is_admin:
            return views.error(403, "Policy does not allow placement to be performed.", headers)
        call.version, call.base_url = version, req.host_url
        try:
            with self.cloud.lock:
                status, body = self.router.dispatch(call, req.path_info)
        except NovaError as exc:
            return views.error(exc.code, exc.message, headers)
        except Exception:
            LOG.exception("unexpected error in %s %s", req.method, req.path_info)
            return views.error(500, "Unexpected error", headers)
        return json_response(status, body, headers)

    # -- helpers ----------------------------------------------------------------------------
    def _provider(self, rp_uuid: str) -> Provider:
        provider = self.cloud.placement.by_uuid.get(rp_uuid)
        if provider is None:
            raise NovaError(404, f"No resource provider with uuid {rp_uuid} found")
        return provider

    def _aggregates(self) -> dict[str, set[str]]:
        """Host -> the uuids of its aggregates (Nova mirrors host aggregates here)."""
        found: dict[str, set[str]] = {}
        for agg in self.cloud.aggregates.values():
            for host in agg.hosts:
                found.setdefault(host, set()).add(agg.uuid)
        return found

    def _traits(self, provider: Provider) -> set[str]:
        service = self.cloud.compute_service(provider.name)
        traits = {"COMPUTE_NODE"}
        if service is not None and service.disabled:
            traits.add("COMPUTE_STATUS_DISABLED")  # the trait Nova sets on disable
        return traits

    def _view(self, call: Call, provider: Provider) -> dict[str, Any]:
        base = f"/resource_providers/{provider.uuid}"
        links = [{"rel": "self", "href": base},
                 {"rel": "inventories", "href": f"{base}/inventories"},
                 {"rel": "usages", "href": f"{base}/usages"}]
        for rel, since in (("aggregates", 1), ("traits", 6), ("allocations", 11)):
            if call.at_least(1, since):
                links.append({"rel": rel, "href": f"{base}/{rel}"})
        view: dict[str, Any] = {"uuid": provider.uuid, "name": provider.name,
                                "generation": provider.generation, "links": links}
        if call.at_least(1, 14):
            view.update(parent_provider_uuid=None, root_provider_uuid=provider.uuid)
        return view

    def _filter(self, call: Call) -> list[Provider]:
        """Providers passing ``member_of`` (1.3+) and ``required`` (1.18+ / 1.17+)."""
        groups = [set(v.removeprefix("in:").split(","))
                  for v in call.req.GET.getall("member_of")] if call.at_least(1, 3) else []
        wanted, forbidden = set(), set()
        for value in call.req.GET.getall("required") if call.at_least(1, 17) else []:
            for trait in value.split(","):
                if trait.startswith("!"):
                    forbidden.add(trait[1:])
                else:
                    wanted.add(trait)
        member = self._aggregates() if groups else {}
        found = []
        for provider in self.cloud.placement.providers.values():
            if any(not group & member.get(provider.name, set()) for group in groups):
                continue
            if wanted or forbidden:
                traits = self._traits(provider)
                if not wanted <= traits or forbidden & traits:
                    continue
            found.append(provider)
        return found

    # -- resource providers -----------------------------------------------------------------
    def providers(self, call: Call) -> Reply:
        name, rp_uuid = call.param("name"), call.param("uuid")
        raw = call.param("resources") if call.at_least(1, 4) else None
        amounts = views.parse_resources(raw) if raw else None
        found = [self._view(call, p) for p in self._filter(call)
                 if (name is None or p.name == name) and (rp_uuid is None or p.uuid == rp_uuid)
                 and (amounts is None or p.fits(amounts))]
        return 200, {"resource_providers": found}

    def provider(self, call: Call, rp_uuid: str) -> Reply:
        return 200, self._view(call, self._provider(rp_uuid))

    def inventories(self, call: Call, rp_uuid: str) -> Reply:
        provider = self._provider(rp_uuid)
        return 200, {"resource_provider_generation": provider.generation,
                     "inventories": {rc: inv.view()
                                     for rc, inv in provider.inventories.items()}}

    def usages(self, call: Call, rp_uuid: str) -> Reply:
        provider = self._provider(rp_uuid)
        used = dict(zip(RESOURCE_CLASSES, provider.used, strict=True))
        return 200, {"resource_provider_generation": provider.generation,
                     "usages": {rc: used[rc] for rc in provider.inventories}}

    def aggregates(self, call: Call, rp_uuid: str) -> Reply:
        if not call.at_least(1, 1):
            raise NovaError(404, "The resource could not be found.")
        provider = self._provider(rp_uuid)
        body: dict[str, Any] = {
            "aggregates": sorted(self._aggregates().get(provider.name, set()))}
        if call.at_least(1, 19):
            body["resource_provider_generation"] = provider.generation
        return 200, body

    def traits(self, call: Call, rp_uuid: str) -> Reply:
        if not call.at_least(1, 6):
            raise NovaError(404, "The resource could not be found.")
        provider = self._provider(rp_uuid)
        return 200, {"traits": sorted(self._traits(provider)),
                     "resource_provider_generation": provider.generation}

    def provider_allocations(self, call: Call, rp_uuid: str) -> Reply:
        provider = self._provider(rp_uuid)
        consumers = self.cloud.placement.consumers
        return 200, {"resource_provider_generation": provider.generation, "allocations": {
            c: {"resources": views.resources(consumers[c].allocations[provider.name])}
            for c in self.cloud.placement.holders(provider.name)}}

    # -- allocations and candidates ---------------------------------------------------------
    def allocations(self, call: Call, consumer: str) -> Reply:
        placement = self.cloud.placement
        entry = placement.consumers.get(consumer)
        allocations = {} if entry is None else {
            placement.providers[name].uuid: {
                "generation": placement.providers[name].generation,
                "resources": views.resources(amounts)}
            for name, amounts in entry.allocations.items()}
        body: dict[str, Any] = {"allocations": allocations}
        if entry is not None and allocations and call.at_least(1, 12):
            body.update(project_id=entry.project_id, user_id=entry.user_id)
            if call.at_least(1, 28):
                body["consumer_generation"] = entry.generation
            if call.at_least(1, 38):
                body["consumer_type"] = "INSTANCE"
        return 200, body

    def candidates(self, call: Call) -> Reply:
        if not call.at_least(1, 10):
            raise NovaError(404, "The resource could not be found.")
        amounts = views.parse_resources(call.param("resources"))
        limit = call.param("limit")
        if limit is not None and (not limit.isdigit() or int(limit) < 1):
            raise NovaError(400, f"Invalid limit {limit!r}")
        fitting = [p for p in self._filter(call) if p.fits(amounts)]
        if limit is not None:
            fitting = fitting[:int(limit)]
        return 200, {
            "allocation_requests": [views.allocation_request(call, p, amounts)
                                    for p in fitting],
            "provider_summaries": {p.uuid: views.provider_summary(call, p, amounts,
                                                                  self._traits(p))
                                   for p in fitting}}
