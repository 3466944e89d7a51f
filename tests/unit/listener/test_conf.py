"""Configuration: every group registered, our messaging defaults on a fresh ConfigOpts."""

from __future__ import annotations

from listener import conf as listener_conf
from listener.service import prepare_service


def test_prepare_service_sets_prefetch_and_durable_defaults_per_conf() -> None:
    conf = prepare_service([], default_config_files=[], setup_logging=False)
    assert conf.oslo_messaging_rabbit.rabbit_qos_prefetch_count == 4
    assert conf.oslo_messaging_rabbit.amqp_durable_queues is True
    assert conf.listener.dead_letter_queue == "host_recovery.dead_letter"
    assert conf.mistral.service_type == "workflowv2"


def test_list_opts_has_one_entry_per_group_with_help() -> None:
    groups = {group.name: opts for group, opts in listener_conf.list_opts()}
    assert set(groups) == {"listener", "mistral", "nova_notifications", "metrics",
                           "giveback", "health", "capacity", "wait_sweep"}
    for opts in groups.values():
        assert all(opt.help for opt in opts if opt.name in ("retry_window",
                                                            "workflow_definition"))
