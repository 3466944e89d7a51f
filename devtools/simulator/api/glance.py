"""A minimal Glance v2: version document, image list and show (custom properties flat)."""

from __future__ import annotations

from typing import Any

import webob

from simulator.api.nova import authorize, unauthorized
from simulator.api.wsgi import json_response
from simulator.cloud import Cloud
from simulator.identity import Identity
from simulator.model import Image


def image_view(image: Image) -> dict[str, Any]:
    """Glance v2 image: base fields plus the custom properties at top level."""
    view: dict[str, Any] = {
        "id": image.id, "name": image.name, "status": "active", "visibility": "public",
        "protected": False, "os_hidden": False, "checksum": None, "os_hash_algo": None,
        "os_hash_value": None, "owner": None, "size": image.size, "min_ram": 0,
        "min_disk": 0, "disk_format": "qcow2", "container_format": "bare",
        "virtual_size": None, "created_at": image.created_at,
        "updated_at": image.created_at, "tags": [], "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file", "schema": "/v2/schemas/image"}
    view.update(image.properties)
    return view


class GlanceApp:
    """The image service WSGI app."""

    def __init__(self, cloud: Cloud, identity: Identity) -> None:
        self.cloud = cloud
        self.identity = identity

    def __call__(self, req: webob.Request) -> webob.Response:
        path = req.path_info.rstrip("/")
        if path == "":
            return json_response(300, {"versions": [{
                "id": "v2.16", "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{req.host_url}/v2/"}]}]})
        if authorize(self.identity, req) is None:
            return unauthorized()
        if path == "/v2/images":
            return json_response(200, {"images": [image_view(i)
                                                  for i in self.cloud.images.values()],
                                       "first": "/v2/images", "schema": "/v2/schemas/images"})
        if path.startswith("/v2/images/"):
            image = self.cloud.images.get(path.rsplit("/", 1)[1])
            if image is not None:
                return json_response(200, image_view(image))
        return json_response(404, {"code": 404, "title": "Not Found",
                                   "message": "The resource could not be found."})
