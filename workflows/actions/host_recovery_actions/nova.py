"""The narrow Nova facade: one method per API call, exceptions translated at the boundary.

Usage::

    nova = NovaFacade.from_config(conf)      # keystoneauth session from [nova]
    nova.evacuate(server_id, host=None, on_shared_storage=False)

Servers come back as plain dicts (Nova's JSON). ``NovaError`` is Nova's answer to a request
(4xx, a decision: do not retry blindly); ``NovaUnavailable`` is a transient failure (5xx,
connection): reads retry it briefly themselves (transient.read), then raise it so the task's
retry policy runs the action again; writes raise it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from novaclient import api_versions
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from oslo_config import cfg

from . import transient

__all__ = ["NovaError", "NovaFacade", "NovaUnavailable", "Version"]

T = TypeVar("T")
IMAGE_TTL = 5.0  # seconds: one plan reads an image once; an edit shows within seconds
Version = api_versions.APIVersion


class NovaError(Exception):
    """Nova refused or failed a request (4xx); ``code`` and Nova's ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NovaUnavailable(Exception):
    """Nova could not be reached or answered 5xx: worth retrying."""


def _call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except nova_exc.ClientException as exc:
        code = int(getattr(exc, "code", 500) or 500)
        message = str(getattr(exc, "message", exc))
        if code >= 500:
            raise NovaUnavailable(f"{code}: {message}") from exc
        raise NovaError(code, message) from exc
    except ks_exc.HttpError as exc:
        code = int(exc.http_status or 500)
        if code >= 500:
            raise NovaUnavailable(str(exc)) from exc
        raise NovaError(code, str(exc)) from exc
    except ks_exc.ClientException as exc:  # connection refused, timeouts, no endpoint
        raise NovaUnavailable(str(exc)) from exc


def _read(fn: Callable[[], T]) -> T:
    """An idempotent read: retried briefly on a transient failure (transient.read)."""
    return transient.read(lambda: _call(fn), NovaUnavailable)


def _dict(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)


class NovaFacade:
    """What the recovery asks of Nova (and of Glance for image properties below 2.98)."""

    def __init__(self, client: Any, session: ks_session.Session, version: str,
                 page_size: int = 200, image_endpoint: str | None = None,
                 interface: str | None = None, region: str | None = None) -> None:
        self._nova = client
        self._session = session
        self.version = Version(version)
        self._page_size = page_size
        self._image_endpoint = image_endpoint
        self._interface = interface
        self._region = region
        # image id -> (monotonic read time, properties): a host's VMs mostly share a few
        # images, so the plan reads Glance once per image, not once per VM
        self._images: dict[str, tuple[float, dict[str, Any]]] = {}

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> NovaFacade:
        """Build the client from the [nova] group (auth_type password, none, ...)."""
        group = conf.nova
        auth = ks_loading.load_auth_from_conf_options(conf, "nova")
        sess = ks_loading.load_session_from_conf_options(conf, "nova", auth=auth)
        client = nova_client.Client(group.api_version, session=sess,
                                    endpoint_override=group.endpoint_override,
                                    region_name=group.region_name,
                                    endpoint_type=group.interface)
        return cls(client, sess, group.api_version, group.page_size,
                   group.image_endpoint_override, group.interface, group.region_name)

    def at_least(self, version: str) -> bool:
        """True when the pinned microversion is ``version`` or later."""
        return bool(self.version >= Version(version))

    # -- services ---------------------------------------------------------------------------
    def compute_services(self, host: str | None = None) -> list[dict[str, Any]]:
        """nova-compute services (of ``host`` when given)."""
        return _read(lambda: [_dict(s) for s in
                              self._nova.services.list(host=host, binary="nova-compute")])

    def force_down(self, service: dict[str, Any]) -> dict[str, Any]:
        """Mark a compute service forced down (by uuid from 2.53, by host before).

        Returns the service as this write left it: Nova's answer from 2.53 (with the row's
        ``updated_at``, the re-check's baseline); below 2.53 the answer has no
        ``updated_at``, so the service is read again.
        """
        if self.at_least("2.53"):
            written = _call(lambda: _dict(self._nova.services.force_down(service["id"],
                                                                         True)))
            if written.get("updated_at"):
                return written
        else:
            _call(lambda: self._nova.services.force_down(service["host"], "nova-compute",
                                                         True))
        found = self.compute_services(service["host"])
        return found[0] if found else dict(service, forced_down=True)

    def unforce_down(self, service: dict[str, Any]) -> None:
        """Clear forced_down (give the host back); Nova refuses (400) while 'done'
        evacuation migrations of the host exist."""
        if self.at_least("2.53"):
            _call(lambda: self._nova.services.force_down(service["id"], False))
        else:
            _call(lambda: self._nova.services.force_down(service["host"], "nova-compute",
                                                         False))

    def enable_service(self, service: dict[str, Any]) -> None:
        """Enable a compute service (a reserved host): by uuid from 2.53, by host before."""
        if self.at_least("2.53"):
            _call(lambda: self._nova.services.enable(service["id"]))
        else:
            _call(lambda: self._nova.services.enable(service["host"], "nova-compute"))

    def aggregates(self) -> list[dict[str, Any]]:
        """All host aggregates with hosts and metadata."""
        return _read(lambda: [_dict(a) for a in self._nova.aggregates.list()])

    # -- servers ----------------------------------------------------------------------------
    def host_servers(self, host: str) -> list[dict[str, Any]]:
        """Every server on ``host`` across all tenants, page by page (marker + limit)."""
        found: list[dict[str, Any]] = []
        marker: str | None = None
        opts = {"host": host, "all_tenants": 1}
        while True:
            page = _read(lambda m=marker: self._nova.servers.list(  # type: ignore[misc]
                detailed=True, search_opts=opts, marker=m, limit=self._page_size))
            found.extend(_dict(s) for s in page)
            if len(page) < self._page_size:
                return found
            marker = found[-1]["id"]

    def server(self, server_id: str) -> dict[str, Any]:
        """One server with admin fields (host, vm_state, task_state, locked, fault)."""
        return _read(lambda: _dict(self._nova.servers.get(server_id)))

    def flavor_extra_specs(self, server: dict[str, Any]) -> dict[str, str]:
        """Extra specs: embedded in the server from 2.47, else from the flavor."""
        flavor = server.get("flavor") or {}
        if "extra_specs" in flavor or self.at_least("2.47"):
            return dict(flavor.get("extra_specs") or {})
        if not flavor.get("id"):
            return {}
        return _read(lambda: dict(self._nova.flavors.get(flavor["id"]).get_keys()))

    def image_properties(self, server: dict[str, Any]) -> dict[str, Any]:
        """Image properties: in the server body from 2.98, else from Glance."""
        image = server.get("image") or {}
        if not isinstance(image, dict) or not image.get("id"):
            return {}  # boot from volume
        if "properties" in image or self.at_least("2.98"):
            return dict(image.get("properties") or {})
        cached = self._images.get(str(image["id"]))
        if cached is not None and time.monotonic() - cached[0] < IMAGE_TTL:
            return dict(cached[1])
        props = self._glance_properties(str(image["id"]))
        if len(self._images) > 1000:  # images come and go; keep it small
            self._images.clear()
        self._images[str(image["id"])] = (time.monotonic(), props)
        return dict(props)

    def _glance_properties(self, image_id: str) -> dict[str, Any]:
        image = {"id": image_id}
        kwargs: dict[str, Any] = {"raise_exc": False}
        if self._image_endpoint:
            url = f"{self._image_endpoint.rstrip('/')}/v2/images/{image['id']}"
        else:
            url = f"/v2/images/{image['id']}"
            kwargs["endpoint_filter"] = {"service_type": "image",
                                         "interface": self._interface,
                                         "region_name": self._region}

        def fetch() -> Any:
            resp = _call(lambda: self._session.get(url, **kwargs))
            if resp.status_code >= 500:
                raise NovaUnavailable(f"Glance {resp.status_code}")
            return resp

        resp = transient.read(fetch, NovaUnavailable)
        if resp.status_code != 200:
            return {}
        body = resp.json()
        standard = {"id", "name", "status", "visibility", "owner", "checksum", "size",
                    "created_at", "updated_at", "tags", "disk_format", "container_format",
                    "min_disk", "min_ram", "protected", "file", "schema", "self",
                    "virtual_size", "os_hash_algo", "os_hash_value", "os_hidden",
                    "direct_url", "locations"}
        props = {k: v for k, v in body.items() if k not in standard}
        for tag in body.get("tags") or []:
            props.setdefault(tag, "true")
        return props

    def lock(self, server_id: str, reason: str) -> None:
        """Lock (with a reason from 2.73)."""
        if self.at_least("2.73"):
            _call(lambda: self._nova.servers.lock(server_id, reason=reason))
        else:
            _call(lambda: self._nova.servers.lock(server_id))

    def unlock(self, server_id: str) -> None:
        _call(lambda: self._nova.servers.unlock(server_id))

    def reset_state(self, server_id: str, state: str) -> None:
        _call(lambda: self._nova.servers.reset_state(server_id, state))

    def start(self, server_id: str) -> None:
        _call(lambda: self._nova.servers.start(server_id))

    def stop(self, server_id: str) -> None:
        _call(lambda: self._nova.servers.stop(server_id))

    def evacuate(self, server_id: str, host: str | None, on_shared_storage: bool) -> None:
        """Evacuate; onSharedStorage only below 2.14 (Nova decides from then on)."""
        if self.at_least("2.14"):
            _call(lambda: self._nova.servers.evacuate(server_id, host=host))
        else:
            _call(lambda: self._nova.servers.evacuate(
                server_id, host=host, on_shared_storage=on_shared_storage))

    def evacuations(self, server_id: str) -> list[dict[str, Any]]:
        """The server's evacuation migrations, newest first."""
        found = _read(lambda: [_dict(m) for m in
                               self._nova.migrations.list(instance_uuid=server_id)])
        evacs = [m for m in found if m.get("migration_type", "evacuation") == "evacuation"]
        return sorted(evacs, key=lambda m: (str(m.get("created_at")), m.get("id", 0)),
                      reverse=True)
