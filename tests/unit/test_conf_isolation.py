"""An override on one ConfigOpts never shows in another that registers the same groups.

oslo.config shares a registered group's option dict with the module-level OptGroup; a
set_override in one test (or one service object) leaked into the next ConfigOpts, and a unit
test read an option a functional test had overridden in the same pytest run.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from oslo_config import cfg

import agents.conf
import listener.conf
import notifications.conf

REGISTRARS: list[tuple[Callable[[cfg.ConfigOpts], None],
                       Callable[[], list[tuple[cfg.OptGroup, list[cfg.Opt]]]]]] = [
    (listener.conf.register_opts, listener.conf.list_opts),
    (notifications.conf.register_opts, notifications.conf.list_opts),
    (agents.conf.register_opts, agents.conf.list_opts),
]


def _conf(register: Callable[[cfg.ConfigOpts], None]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    register(conf)
    conf([])
    return conf


@pytest.mark.parametrize("register,list_opts", REGISTRARS,
                         ids=["listener", "notifications", "agents"])
def test_an_override_stays_in_its_own_config(
        register: Callable[[cfg.ConfigOpts], None],
        list_opts: Callable[[], list[tuple[cfg.OptGroup, list[cfg.Opt]]]]) -> None:
    first, second = _conf(register), _conf(register)
    checked = 0
    for group, opts in list_opts():
        for opt in opts:
            if not isinstance(opt, cfg.StrOpt) or getattr(opt.type, "choices", None):
                continue
            first.set_override(opt.dest, "overridden-in-first", group=group.name)
            assert getattr(second[group.name], opt.dest) != "overridden-in-first", \
                f"[{group.name}] {opt.dest} leaked from one ConfigOpts to another"
            assert getattr(_conf(register)[group.name], opt.dest) != "overridden-in-first"
            checked += 1
            break
    assert checked >= 1
