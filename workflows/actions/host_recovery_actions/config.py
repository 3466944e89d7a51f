"""The action pack's own configuration, loaded from a file on every action run.

Usage::

    conf = config.load()                 # fresh ConfigOpts from HOST_RECOVERY_ACTIONS_CONFIG
    conf.recovery.max_attempts

Credentials live here and nowhere else (design §7): never in workflow input or output.
``list_opts`` feeds oslo-config-generator (etc/oslo-config-generator/actions.conf).
"""

from __future__ import annotations

import copy
import os
from typing import Any

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg, types

__all__ = ["DEFAULT_PATH", "ENV_VAR", "list_opts", "load"]

ENV_VAR = "HOST_RECOVERY_ACTIONS_CONFIG"
DEFAULT_PATH = "/etc/host-recovery/actions.conf"

NOVA_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("api_version", default="2.95",
               help="Nova API microversion pinned for every call. Behaviour is correct on "
                    "both sides of 2.14 (onSharedStorage) and 2.95 (evacuated VMs end "
                    "STOPPED; originally ACTIVE ones are started again)."),
    cfg.StrOpt("endpoint_override",
               help="Nova endpoint (with auth_type = none this is required)."),
    cfg.StrOpt("region_name", help="Region of the compute endpoint in the catalog."),
    cfg.StrOpt("interface", default="internal", help="Catalog interface for Nova."),
    cfg.StrOpt("image_endpoint_override",
               help="Glance endpoint; only needed below microversion 2.98 with auth_type = "
                    "none (image properties are read from Glance then)."),
    cfg.IntOpt("page_size", default=200, min=1,
               help="Servers per page when listing a host's servers (paginated)."),
]

MISTRAL_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("url", default="http://127.0.0.1:8989/v2",
               help="Mistral API base URL including /v2 (used to complete async actions "
                    "and by the mass-failure guard)."),
]

POLICY_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("host_policy_file", default="/etc/host-recovery/host-policy.yaml",
               help="YAML file of host name patterns -> host policy (missing = none)."),
    cfg.StrOpt("mode", default="opt-out", choices=["opt-in", "opt-out"],
               help="opt-out: every VM is evacuated unless disabled; opt-in: only VMs "
                    "enabled by metadata, flavor extra spec, image property or tag."),
    cfg.ListOpt("enabled_keys", default=["host_recovery:enabled", "HA_Enabled"],
                help="Keys (server metadata, flavor extra specs, image properties) whose "
                     "boolean value enables or disables recovery, first match wins."),
    cfg.ListOpt("priority_keys", default=["host_recovery:priority", "evacuation_priority",
                                          "instanceha:restart_priority"],
                help="Keys holding an integer priority; higher is evacuated first "
                     "(instanceha:restart_priority is the infra-operator's alias)."),
    cfg.StrOpt("restart_delay_key", default="host_recovery:restart_delay",
               help="Server metadata key: seconds the next restart tier waits after this VM "
                    "is running ([recovery] ordered_tiers)."),
    cfg.ListOpt("evacuable_tags", default=["evacuable"],
                help="fence_compute/NovaEvacuate style tags: a flavor extra spec or image "
                     "property of this name set to true (or a server tag) enables the VM."),
    cfg.StrOpt("error_vms", default="skip", choices=["skip", "reset"],
               help="VMs in ERROR: skip, or reset to active and evacuate."),
    cfg.StrOpt("other_states", default="skip", choices=["skip", "reset"],
               help="VMs paused, suspended, rescued, resized or shelved: skip, or reset "
                    "to active and evacuate (they end ACTIVE)."),
    cfg.StrOpt("task_state", default="skip", choices=["skip", "reset"],
               help="VMs with a task_state set (resizing, migrating, ...): skip, or reset "
                    "to active and evacuate."),
    cfg.StrOpt("user_locked", default="evacuate", choices=["skip", "evacuate"],
               help="VMs locked by someone else: skip, or evacuate as admin (their lock "
                    "is left as it was)."),
    cfg.IntOpt("default_priority", default=0, help="Priority of VMs without a key."),
]

GUARD_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("max_hosts", default=2, min=0,
               help="At most this many hosts recover without approval within `window`."),
    cfg.FloatOpt("max_fraction", default=0.25, min=0.0, max=1.0,
                 help="At most this fraction of nova-compute services (rounded down, at "
                      "least 1) recovers without approval within `window`."),
    cfg.IntOpt("window", default=600, min=0,
               help="Seconds: incidents created within this window count together."),
]

RECOVERY_OPTS: list[cfg.Opt] = [
    cfg.FloatOpt("fencing_clock_skew", default=10.0, min=0.0,
                 help="Seconds of clock skew allowed when fencing evidence is compared with "
                      "the failure time: evidence completed earlier than the failure minus "
                      "this is stale and proves nothing (docs/design.md, Safety)."),
    cfg.FloatOpt("evidence_fresh_for", default=300.0, min=0.0,
                 help="Seconds after which fencing evidence (other than an operator's) is "
                      "re-checked at the fence step: a host-down delivered this late (listeners "
                      "or Mistral were down) is refused when the host's nova-compute is up "
                      "again, as after a hold (docs/design.md, Safety)."),
    cfg.BoolOpt("on_shared_storage", default=False,
                help="Default for onSharedStorage (only sent below microversion 2.14)."),
    cfg.IntOpt("concurrency", default=10, min=1, help="Evacuations in parallel per host."),
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="Evacuation attempts per VM (rebuild error, no valid host)."),
    cfg.IntOpt("wait_timeout", default=300, min=1,
               help="Seconds the wait for Nova's notification lasts before polling."),
    cfg.FloatOpt("poll_interval", default=2.0, help="Seconds between polls of Nova."),
    cfg.IntOpt("instance_timeout", default=900, min=10,
               help="Seconds one VM's recovery may take; the recover step's timeout is "
                    "this times the number of concurrency rounds, plus 30 s. A backstop: "
                    "Mistral 23 can leave a task IDLE forever when its engine dies while "
                    "starting it; the workflow then re-plans (replan_attempts)."),
    cfg.IntOpt("replan_attempts", default=2, min=0,
               help="Times the workflow re-runs the VMs without a result after the recover "
                    "step timed out or failed (their stuck instance workflows are cancelled "
                    "first) before the incident ends with them failed."),
    cfg.IntOpt("poll_limit", default=60, min=1,
               help="Seconds the polling fallback (and the state restore) may take."),
    cfg.ListOpt("tier_bands", default=[], item_type=types.Integer(),
                help="Restart tiers as bands of the instance priority: with 100,50 a "
                     "priority >= 100 is tier 0, >= 50 tier 1, the rest tier 2 (empty: one "
                     "tier). Higher tiers are placed first when capacity is short."),
    cfg.BoolOpt("ordered_tiers", default=False,
                help="Start a tier only once the previous tier's VMs are back (ACTIVE with "
                     "power state RUNNING, or STOPPED if they were) plus the largest "
                     "restart delay their metadata sets (see [policy] restart_delay_key)."),
    cfg.IntOpt("tier_ready_timeout", default=600, min=0,
               help="Seconds a tier waits for the previous one to be ready before it starts "
                    "anyway (a VM whose guest never runs must not hold the others back)."),
    cfg.IntOpt("capacity_wait", default=1800, min=0,
               help="Seconds VMs that fit nowhere wait for capacity (a host revived or "
                    "enabled, a VM deleted) before the incident ends listing them as not "
                    "recovered. They are never sent to Nova while they do not fit."),
    cfg.IntOpt("capacity_poll_interval", default=30, min=1,
               help="Seconds between two reads of Placement while VMs wait for capacity."),
    cfg.FloatOpt("capacity_full_read_interval", default=900.0, min=0.0,
                 help="The failover-capacity analysis (host-recovery capacity, the "
                      "listener's refresher) keeps every server in the Mistral executor's "
                      "memory and reads only the servers changed since its last read "
                      "(Nova's changes-since); every this many seconds it reads every "
                      "server again, which also picks up what changes-since does not show "
                      "(metadata edited without a state change). 0: always read every "
                      "server."),
    cfg.IntOpt("no_valid_host_backoff", default=5, min=0,
               help="Seconds before evacuating again after a failed attempt (NoValidHost, "
                    "rebuild error), doubled per attempt, at most 300."),
]

NOTIFICATION_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("transport_url", secret=True,
               help="oslo.messaging URL for our host_recovery.* notifications (unset: none "
                    "are sent)."),
    cfg.StrOpt("topic", default="host_recovery_events", help="Notification topic."),
]

GROUPS: dict[str, list[cfg.Opt]] = {
    "nova": NOVA_OPTS, "mistral": MISTRAL_OPTS, "policy": POLICY_OPTS, "guard": GUARD_OPTS,
    "recovery": RECOVERY_OPTS, "notifications": NOTIFICATION_OPTS,
}
AUTH_GROUPS = ("nova", "mistral")
# keystoneauth's session timeout defaults to none: a Nova or Mistral that accepts the
# connection and never answers would hold an action until its task's timeout (60 s for a
# VM's steps), and a read retried on its own (``transient``) four times as long
HTTP_TIMEOUT = 30


def session_opts() -> list[cfg.Opt]:
    """keystoneauth's session options, with our HTTP ``timeout`` default."""
    opts = copy.deepcopy(ks_loading.get_session_conf_options())
    for opt in opts:
        if opt.dest == "timeout":
            opt.default = HTTP_TIMEOUT
            opt.help = (f"{(opt.help or '').rstrip('.')}. Default {HTTP_TIMEOUT} s: within the VM "
                        "steps' task timeout, so a hung request is retried, not waited on.")
    return opts


def register(conf: cfg.ConfigOpts) -> None:
    """Register every option group (and keystoneauth's auth/session options) on ``conf``."""
    for group, opts in GROUPS.items():
        conf.register_opts(opts, group=group)
    for group in AUTH_GROUPS:
        ks_loading.register_auth_conf_options(conf, group)
        conf.register_opts(session_opts(), group=group)


def load(path: str | None = None) -> cfg.ConfigOpts:
    """A fresh ConfigOpts read from ``path`` (default: $HOST_RECOVERY_ACTIONS_CONFIG)."""
    path = path or os.environ.get(ENV_VAR, DEFAULT_PATH)
    conf = cfg.ConfigOpts()
    register(conf)
    files = [path] if os.path.exists(path) else []
    conf(args=[], project="host-recovery", default_config_files=files,
         default_config_dirs=[])
    return conf


def list_opts() -> list[tuple[str, list[Any]]]:
    """Options for oslo-config-generator (auth options of the password plugin included)."""
    auth = ks_loading.get_auth_common_conf_options() + \
        ks_loading.get_auth_plugin_conf_options("password")
    session = session_opts()
    result: list[tuple[str, list[Any]]] = []
    for group, opts in GROUPS.items():
        extra = auth + session if group in AUTH_GROUPS else []
        result.append((group, list(opts) + _dedup(extra, opts)))
    return result


def _dedup(extra: list[Any], opts: list[cfg.Opt]) -> list[Any]:
    names = {o.dest for o in opts}
    seen: set[str] = set()
    out = []
    for opt in extra:
        if opt.dest not in names and opt.dest not in seen:
            seen.add(opt.dest)
            out.append(opt)
    return out
