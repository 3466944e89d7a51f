"""Fuzz on the real broker and a real listener process (both topics): no crash, no hot loop,
every body kept (by us or by the broker), valid host-downs started (tests/functional/fuzz/
campaign.py says how each body is counted).

The short run (a fixed seed, 600 bodies per topic) is part of ``make test`` and takes about
40 s; the long one (``HOST_RECOVERY_FUZZ_BODIES=10000``, what ``make soak SUITE=fuzz`` sets)
prints its figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.mistral import MistralServer
from harness.rabbit import RabbitBroker
from tests.functional.fuzz.campaign import ATTEMPTS, Campaign, Phase

pytestmark = [pytest.mark.rabbit, pytest.mark.mistral]

SOAK_BODIES = int(os.environ.get("HOST_RECOVERY_FUZZ_BODIES", "0"))


def check(phases: list[Phase], campaign: Campaign) -> None:
    assert campaign.alive_at_end
    for phase in phases:
        assert phase.missing == 0, phase.line()
        assert phase.untraced == [], phase.untraced[:5]
        assert phase.max_deliveries <= max(ATTEMPTS.values()), phase.line()
        assert phase.oslo_requeues == 0, phase.line()
    host_down = phases[0]
    assert host_down.valid_started == host_down.valid_sent > 0


def test_fuzzed_bodies_are_all_kept_and_bounded(
        rabbit: RabbitBroker, rabbit_url: str, mistral: MistralServer, tmp_path: Path) -> None:
    campaign = Campaign(rabbit, rabbit_url, mistral.api_url, tmp_path)
    check(campaign.run(count=600, seed=12), campaign)


@pytest.mark.slow
@pytest.mark.timeout(7200)
@pytest.mark.skipif(SOAK_BODIES <= 0, reason="the long fuzz run: make soak SUITE=fuzz")
def test_fuzz_soak(rabbit: RabbitBroker, rabbit_url: str, mistral: MistralServer,
                   tmp_path: Path) -> None:
    campaign = Campaign(rabbit, rabbit_url, mistral.api_url, tmp_path)
    seed = int(os.environ.get("HOST_RECOVERY_FUZZ_SEED", "1"))
    check(campaign.run(count=SOAK_BODIES, seed=seed, timeout=max(600.0, SOAK_BODIES / 10)),
          campaign)
