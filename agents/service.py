"""Agents' configuration and the one way they send a host-down (confirmed publish)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from oslo_config import cfg
from oslo_log import log as logging

from agents import conf as agents_conf
from notifications import conf as hd_conf
from notifications import host_down, messaging, signing
from notifications.publisher import (
    Publisher,
    QueueSpec,
    kombu_ssl,
    oslo_queue_arguments,
    parse_transport_url,
)

LOG = logging.getLogger(__name__)


def prepare(args: Sequence[str] = (), default_config_files: Sequence[str] | None = None
            ) -> cfg.ConfigOpts:
    """A fresh ConfigOpts with every agent option registered, parsed, logging set up."""
    conf = cfg.ConfigOpts()
    hd_conf.register_opts(conf)
    agents_conf.register_opts(conf)
    messaging.register_transport_opts(conf)
    messaging.set_messaging_defaults(conf)
    logging.register_options(conf)
    conf(list(args), project="host-recovery", prog="host-recovery-notify",
         default_config_files=list(default_config_files or []))
    logging.setup(conf, "host-recovery-notify")
    return conf


def transport_url(conf: cfg.ConfigOpts) -> str:
    """[publisher] transport_url, else oslo's notification URL, else [DEFAULT]."""
    url = (conf.publisher.transport_url or conf.oslo_messaging_notifications.transport_url
           or conf.transport_url)
    if not url:
        raise ValueError("no broker: set [publisher] transport_url")
    return str(url)


def make_publisher(conf: cfg.ConfigOpts) -> Publisher:
    """The confirmed publisher to the listeners' queue, declared and over TLS as oslo would."""
    rabbit = conf.oslo_messaging_rabbit
    spec = QueueSpec(durable=bool(rabbit.amqp_durable_queues or rabbit.rabbit_quorum_queue),
                     auto_delete=bool(rabbit.amqp_auto_delete),
                     declare=conf.publisher.declare_queue,
                     arguments=oslo_queue_arguments(rabbit))
    pub = conf.publisher
    return Publisher(parse_transport_url(transport_url(conf)),
                     exchange=conf.host_down.exchange,
                     routing_key=f"{conf.host_down.topic}.info", queue=spec,
                     connect_timeout=pub.connect_timeout, confirm_timeout=pub.confirm_timeout,
                     total_timeout=pub.total_timeout, backoff_initial=pub.backoff_initial,
                     backoff_max=pub.backoff_max, ssl=kombu_ssl(rabbit))


def nova_host(conf: cfg.ConfigOpts, node: str) -> str:
    """Nova compute host name of a cluster node ([agent] node_host_map)."""
    return str(conf.agent.node_host_map.get(node, node))


def send_host_down(conf: cfg.ConfigOpts, host: str, *, incident_id: str,
                   failure_time: dt.datetime, fencing_confirmed: bool, source: str,
                   on_shared_storage: bool | None = None,
                   fencing_evidence: host_down.FencingEvidence | None = None,
                   publisher: Publisher | None = None) -> str:
    """Publish one signed host-down until the broker confirms; raise PublishError if not.

    ValueError (before anything is sent) without a signing key unless [host_down]
    allow_unsigned: an unsigned host-down would be dead-lettered by every listener.
    """
    keyring = signing.keyring_from_conf(conf)
    key_id, secret = keyring.signing_key()
    if on_shared_storage is None:
        on_shared_storage = conf.agent.on_shared_storage
    reporter = f"{source}@{conf.agent.reporter}"

    def payload() -> dict[str, object]:
        # Rebuilt per attempt: sent_at (signed) must be fresh for the replay window.
        return host_down.build_payload(
            host, incident_id=incident_id, failure_time=failure_time, reporter=reporter,
            fencing_confirmed=fencing_confirmed, source=source,
            on_shared_storage=on_shared_storage, signing_key=secret, key_id=key_id,
            fencing_evidence=fencing_evidence)

    message_id = (publisher or make_publisher(conf)).publish(
        payload, event_type=conf.host_down.event_type,
        publisher_id=f"host-recovery.{source}.{conf.agent.reporter}")
    LOG.info("Host-down for %s (incident %s) confirmed as message %s, evidence %s", host,
             incident_id, message_id, fencing_evidence)
    return message_id
