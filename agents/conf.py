"""Options of the host-down producers (agents/): broker publishing and node mapping."""

from __future__ import annotations

import socket

from oslo_config import cfg

from notifications.conf import register_group_opts

publisher_group = cfg.OptGroup(
    "publisher", title="Confirmed host-down publisher",
    help="How agents publish host-downs: broker URLs, confirms, retries.")

publisher_opts = [
    cfg.StrOpt("transport_url", secret=True,
               help="Broker URL in oslo's syntax; several hosts are tried in turn: "
               "rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost. Defaults to "
               "[oslo_messaging_notifications] transport_url, then [DEFAULT] transport_url."),
    cfg.FloatOpt("connect_timeout", default=5.0, min=0.1,
                 help="Seconds to connect to one broker."),
    cfg.FloatOpt("confirm_timeout", default=10.0, min=0.1,
                 help="Seconds to wait for the broker's publisher confirm."),
    cfg.FloatOpt("total_timeout", default=20.0, min=0.0,
                 help="Seconds of retries before a publish is reported as failed (keep "
                 "below the OCF monitor timeout)."),
    cfg.FloatOpt("backoff_initial", default=0.5, min=0.0,
                 help="First retry delay in seconds; doubles at each retry."),
    cfg.FloatOpt("backoff_max", default=5.0, min=0.0,
                 help="Largest retry delay in seconds."),
    cfg.BoolOpt("declare_queue", default=False,
                help="Declare the listeners' queue with the arguments oslo computes from "
                "[oslo_messaging_rabbit] (host-downs then wait for a listener). False: "
                "declare passively and fail while no listener has declared it."),
]

agent_group = cfg.OptGroup(
    "agent", title="Pacemaker agents",
    help="How the OCF resource agent and the alert agent find failed compute nodes.")

agent_opts = [
    cfg.DictOpt("node_host_map", default={},
                help="Cluster node name to Nova compute host name, where they differ "
                "(node1:compute-1.example.org,node2:...)."),
    cfg.ListOpt("compute_nodes", default=[],
                help="Cluster nodes that are compute nodes; empty: every node a host "
                "monitor reports (controllers are then never fenced by the monitor)."),
    cfg.StrOpt("evacuate_attribute", default="evacuate",
               help="Node attribute a fence agent (fence_compute) sets on a failed node."),
    cfg.StrOpt("evacuate_value", default="yes",
               help="Value of evacuate_attribute that requests recovery."),
    cfg.BoolOpt("use_fencing_history", default=True,
                help="Also treat nodes with a successful fencing in the fencing history "
                "as failed."),
    cfg.IntOpt("fencing_max_age", default=3600, min=1,
               help="Ignore fencing events older than this many seconds (a resource "
               "started later does not recover hosts fenced long ago)."),
    cfg.StrOpt("state_prefix", default="host-recovery-incident-",
               help="Prefix of the CIB cluster properties (crm_config, lifetime forever) "
               "holding pending/sent incidents, one per node."),
    cfg.StrOpt("reporter", default=socket.gethostname(), sample_default="<hostname>",
               help="Reporter name put in host-downs (prefixed with the agent kind)."),
    cfg.IntOpt("scan_error_threshold", default=3, min=1,
               help="Consecutive monitors that could not read Pacemaker (attrd, CIB, "
               "fencing history) before the monitor fails. A read error is never taken "
               "as \"no failure\"; each failed monitor makes Pacemaker restart the "
               "resource and past migration-threshold ban it: set the resource's "
               "failure-timeout (docs/agents.md)."),
    cfg.BoolOpt("on_shared_storage",
                help="on_shared_storage of the host-downs; unset lets Nova decide."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the agents' option groups on ``conf``."""
    for group, opts in list_opts():
        register_group_opts(conf, group, opts)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(publisher_group, publisher_opts), (agent_group, agent_opts)]
