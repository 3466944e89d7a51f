"""[mistral]: where the recovery workflow runs (keystoneauth session, auth and adapter)."""

import copy

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from notifications.conf import register_group_opts

GROUP = "mistral"
HTTP_TIMEOUT = 30  # keystoneauth's default is none: a Mistral that never answers holds us

mistral_group = cfg.OptGroup(
    GROUP,
    title="Mistral",
    help="Mistral's v2 API. With Keystone: auth_type = password (or any keystoneauth "
    "plugin) and the catalog finds the endpoint. Without: auth_type = none and "
    "endpoint_override = http://<host>:8989/v2.",
)

mistral_opts = [
    cfg.StrOpt(
        "workflow_definition",
        help="File with the recovery workflow definition to sync and expect in Mistral. "
        "Empty: the definition shipped in the workflows package.",
    ),
]


def _ks_opts() -> list[cfg.Opt]:
    opts: list[cfg.Opt] = copy.deepcopy(ks_loading.get_session_conf_options())
    for opt in opts:
        if opt.dest == "timeout":  # the default register_opts sets, shown in the samples
            opt.default = HTTP_TIMEOUT
    opts.extend(ks_loading.get_auth_common_conf_options())
    opts.extend(ks_loading.get_auth_plugin_conf_options("password"))
    opts.extend(ks_loading.get_adapter_conf_options(include_deprecated=False))
    # de-duplicate by name (plugins share some option names)
    seen: set[str] = set()
    unique = []
    for opt in opts:
        if opt.dest not in seen:
            seen.add(opt.dest)
            unique.append(opt)
    return unique


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the [mistral] options on ``conf``."""
    register_group_opts(conf, mistral_group, mistral_opts)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_adapter_conf_options(conf, GROUP, include_deprecated=False)
    conf.set_default("service_type", "workflowv2", group=GROUP)
    conf.set_default("timeout", HTTP_TIMEOUT, group=GROUP)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    return [(mistral_group, mistral_opts + _ks_opts())]
