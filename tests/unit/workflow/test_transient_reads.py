"""Reads retry a transient failure on their own, briefly; writes never do (soak R4)."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace
from typing import Any

import pytest
from novaclient import exceptions as nova_exc

from host_recovery_actions import config, transient
from host_recovery_actions.nova import NovaFacade, NovaUnavailable
from host_recovery_actions.placement import PlacementClient


@pytest.fixture(autouse=True)
def waited(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff sleeps, recorded instead of slept."""
    naps: list[float] = []
    monkeypatch.setattr(transient, "SLEEP", naps.append)
    return naps


def _flaky(failures: int, answer: Any, calls: list[int]) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= failures:
            raise nova_exc.ClientException(code=500, message="Unexpected API Error")
        return answer
    return call


def test_a_read_outlives_three_5xx_and_gives_up_on_the_fourth() -> None:
    calls: list[int] = []
    client = SimpleNamespace(servers=SimpleNamespace(
        get=_flaky(3, SimpleNamespace(to_dict=lambda: {"id": "vm"}), calls)))
    assert NovaFacade(client, None, "2.95").server("vm") == {"id": "vm"}
    assert len(calls) == 4
    calls.clear()
    client.servers.get = _flaky(4, None, calls)
    with pytest.raises(NovaUnavailable, match="500"):
        NovaFacade(client, None, "2.95").server("vm")
    assert len(calls) == transient.READ_ATTEMPTS  # bounded: then the task's retry policy


def test_a_write_answered_5xx_is_not_repeated() -> None:
    # an evacuate answered 500 may have been accepted: the task's policy re-reads Nova first
    calls: list[int] = []
    client = SimpleNamespace(servers=SimpleNamespace(evacuate=_flaky(1, None, calls)))
    with pytest.raises(NovaUnavailable):
        NovaFacade(client, None, "2.95").evacuate("vm", host="c2", on_shared_storage=False)
    assert len(calls) == 1


def test_placement_and_glance_reads_retry_5xx_but_not_4xx() -> None:
    answers = [503, 502, 200, 404]

    class Session:
        gets = 0

        def get(self, url: str, **kwargs: Any) -> Any:
            Session.gets += 1
            code = answers.pop(0)
            return SimpleNamespace(status_code=code, content=b"{}", text="",
                                   headers={}, json=lambda: {"id": "img"})

    assert PlacementClient(Session()).placement_get("/resource_providers") == {}
    assert Session.gets == 3
    with pytest.raises(Exception, match="404"):
        PlacementClient(Session()).placement_get("/resource_providers")
    assert Session.gets == 4  # a 4xx is an answer: not retried
    answers[:] = [500, 200]
    nova = NovaFacade(None, Session(), "2.95", image_endpoint="http://glance")
    assert nova.image_properties({"image": {"id": "img"}}) == {}
    assert Session.gets == 6


def test_the_backoff_is_short_and_bounded(waited: list[float]) -> None:
    def outage() -> None:
        raise NovaUnavailable("503")

    with pytest.raises(NovaUnavailable):
        transient.read(outage, NovaUnavailable)
    # a blip is ridden out; an outage is the task's retry policy's (delay 3 s, 5 times)
    assert len(waited) == transient.READ_ATTEMPTS - 1 and 1.75 <= sum(waited) < 2.6


def test_a_nova_that_never_answers_times_out_by_default(tmp_path: Any,
                                                        waited: list[float]) -> None:
    """keystoneauth waits forever without a timeout: ours is 30 s unless set (1 s here)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (the kernel does) and never answers
    port = silent.getsockname()[1]
    path = tmp_path / "actions.conf"
    path.write_text(f"[nova]\nauth_type = none\nendpoint_override = http://127.0.0.1:{port}/\n")
    assert config.load(str(path)).nova.timeout == config.HTTP_TIMEOUT == 30
    path.write_text(path.read_text() + "timeout = 1\n")
    nova = NovaFacade.from_config(config.load(str(path)))
    began = time.monotonic()
    try:
        with pytest.raises(NovaUnavailable):
            nova.compute_services("compute1")
    finally:
        silent.close()
    # four tries of 1 s each (the backoff between them recorded, not slept)
    assert len(waited) == 3 and time.monotonic() - began < 10
