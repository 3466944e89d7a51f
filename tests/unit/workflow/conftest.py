"""Fixtures of the action tests: fakes installed into the pack's runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from host_recovery_actions import runtime, source_check
from tests.unit.workflow.fakes import FakeMistral, FakeNova, runtime_with


@pytest.fixture
def use(tmp_path: Path) -> Iterator[Any]:
    """``use(nova, mistral=None, conf="")`` installs the fakes; returns the notifications."""

    def install(nova: FakeNova, mistral: FakeMistral | None = None, conf: str = "") -> list[Any]:
        rt, notes = runtime_with(nova, mistral, conf, tmp_path)
        runtime.FACTORY = lambda: rt
        return notes

    original, cache = runtime.FACTORY, source_check.CACHE
    source_check.CACHE = source_check.ServiceCache()  # no read shared across tests
    yield install
    runtime.FACTORY, source_check.CACHE = original, cache
