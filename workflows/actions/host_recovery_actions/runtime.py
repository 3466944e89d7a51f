"""What an action run needs: the actions config, read on every run, and Nova and Mistral
facades. The Nova facade (its keystoneauth session, hence its token) is kept per process and
per [nova] options, so Keystone sees one token request per process until the token nears
expiry (keystoneauth then re-authenticates), not one per action run; a changed config file
makes a new one.

Usage (in an action)::

    rt = runtime.build()
    rt.nova.server(server_id); rt.notify(*events.instance(...))

Tests replace ``FACTORY`` to inject a fake Nova, Mistral and notifier.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log as logging

from . import config
from .mistral_api import MistralAPI
from .nova import NovaFacade

__all__ = ["FACTORY", "Runtime", "build", "cached_nova"]

LOG = logging.getLogger(__name__)
_NOTIFIERS: dict[tuple[str, str], Any] = {}
_NOTIFIERS_LOCK = threading.Lock()
_NOVA: dict[str, NovaFacade] = {}
_NOVA_LOCK = threading.Lock()
_NOVA_MAX = 8  # distinct [nova] configs kept (tests rewrite the file; production has one)


def _nova_key(conf: cfg.ConfigOpts) -> str:
    """A digest of every [nova] option (and of its auth_section), plugin options included."""
    # Loading the auth plugin registers its options (username, password, ...) on the group;
    # without it the key would miss them. It makes no request.
    ks_loading.load_auth_from_conf_options(conf, "nova")
    groups = ["nova"] + ([conf.nova.auth_section] if conf.nova.auth_section else [])
    values = [(group, name, conf[group][name]) for group in groups
              for name in sorted(conf[group])]
    return hashlib.sha256(repr(values).encode()).hexdigest()


def cached_nova(conf: cfg.ConfigOpts) -> NovaFacade:
    """The process's Nova facade for these [nova] options (built on first use)."""
    key = _nova_key(conf)
    with _NOVA_LOCK:
        facade = _NOVA.get(key)
        if facade is None:
            if len(_NOVA) >= _NOVA_MAX:
                _NOVA.clear()
            facade = _NOVA[key] = NovaFacade.from_config(conf)
        return facade


@dataclass
class Runtime:
    """Config plus lazily built Nova and Mistral facades and a notification sender."""

    conf: cfg.ConfigOpts
    nova_factory: Callable[[cfg.ConfigOpts], Any] = cached_nova
    mistral_factory: Callable[[cfg.ConfigOpts], Any] = MistralAPI.from_config
    sender: Callable[[cfg.ConfigOpts, str, dict[str, Any], str], None] | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def nova(self) -> Any:
        if "nova" not in self._cache:
            self._cache["nova"] = self.nova_factory(self.conf)
        return self._cache["nova"]

    @property
    def mistral(self) -> Any:
        if "mistral" not in self._cache:
            self._cache["mistral"] = self.mistral_factory(self.conf)
        return self._cache["mistral"]

    def notify(self, event_type: str, payload: dict[str, Any], priority: str = "info") -> None:
        """Publish one of our notifications; never raises (dashboards are not the job)."""
        send = self.sender or _oslo_send
        try:
            send(self.conf, event_type, payload, priority)
        except Exception:
            LOG.exception("could not send %s for incident %s", event_type,
                          payload.get("incident_id"))


def _oslo_send(conf: cfg.ConfigOpts, event_type: str, payload: dict[str, Any],
               priority: str) -> None:
    url = conf.notifications.transport_url
    if not url:
        return
    import oslo_messaging  # lazily: only when notifications are configured

    key = (url, conf.notifications.topic)
    with _NOTIFIERS_LOCK:
        notifier = _NOTIFIERS.get(key)
        if notifier is None:
            _durable_by_default(conf)
            transport = oslo_messaging.get_notification_transport(conf, url=url)
            notifier = oslo_messaging.Notifier(
                transport, publisher_id=f"host-recovery.actions:{socket.gethostname()}",
                driver="messagingv2", topics=[conf.notifications.topic])
            _NOTIFIERS[key] = notifier
    getattr(notifier, priority)({}, event_type, payload)


def _durable_by_default(conf: cfg.ConfigOpts) -> None:
    """Declare the exchange durable, as every host-recovery service does (design.md §6).

    oslo's default is non-durable; on a broker where our listeners already declared the
    exchange durable, a non-durable Notifier's publish is refused and dropped silently.
    [oslo_messaging_rabbit] in the actions config still overrides it.
    """
    from oslo_messaging import opts as om_opts

    for group, opts in om_opts.list_opts():
        if group == "oslo_messaging_rabbit":
            conf.register_opts(list(opts), group=group)
    conf.set_default("amqp_durable_queues", True, group="oslo_messaging_rabbit")


def _default_factory() -> Runtime:
    return Runtime(config.load())


FACTORY: Callable[[], Runtime] = _default_factory


def build() -> Runtime:
    """A Runtime for this action run (config re-read every time, Nova session cached)."""
    return FACTORY()
