"""server_index.ServerIndex: a full read, then only what Nova says changed, and a full read
again after the interval, after a failed incremental read, or when Nova's clock is unknown."""

from __future__ import annotations

from typing import Any

import pytest

from host_recovery_actions.server_index import ServerIndex, for_facade

DATE = "Tue, 01 Dec 2026 08:00:00 GMT"


class FakeClient:
    def __init__(self, servers: list[dict[str, Any]], date: str | None = DATE) -> None:
        self.all = servers
        self.changed: list[dict[str, Any]] = []
        self.date = date
        self.calls: list[str | None] = []
        self.fail = False

    def servers_dated(self, changes_since: str | None = None
                      ) -> tuple[list[dict[str, Any]], str | None]:
        self.calls.append(changes_since)
        if self.fail:
            raise RuntimeError("nova 503")
        return (list(self.changed) if changes_since else list(self.all)), self.date


def _server(sid: str, host: str = "c1", status: str = "ACTIVE") -> dict[str, Any]:
    return {"id": sid, "OS-EXT-SRV-ATTR:host": host, "status": status}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_first_read_is_full_then_changes_are_merged() -> None:
    clock = Clock()
    client = FakeClient([_server("a"), _server("b"), _server("c")])
    index = ServerIndex(clock)
    assert {s["id"] for s in index.servers(client, 900)} == {"a", "b", "c"}
    assert client.calls == [None] and index.last_read == "full"
    client.changed = [_server("a", host="c2"), _server("b", status="DELETED"), _server("d")]
    clock.now = 300
    found = {s["id"]: s for s in index.servers(client, 900)}
    # Nova's clock (Date) minus the margin, never ours
    assert client.calls[-1] == "2026-12-01T07:59:00Z"
    assert set(found) == {"a", "c", "d"} and found["a"]["OS-EXT-SRV-ATTR:host"] == "c2"
    assert index.last_read == "incremental (3 changed)"


def test_full_read_again_after_the_interval() -> None:
    clock = Clock()
    client = FakeClient([_server("a")])
    index = ServerIndex(clock)
    index.servers(client, 900)
    clock.now = 899
    index.servers(client, 900)
    clock.now = 900
    index.servers(client, 900)
    assert [c is None for c in client.calls] == [True, False, True]
    index.servers(client, 0)  # 0: always full
    assert client.calls[-1] is None


def test_a_failed_incremental_read_makes_the_next_one_full() -> None:
    client = FakeClient([_server("a")])
    index = ServerIndex(Clock())
    index.servers(client, 900)
    client.fail = True
    with pytest.raises(RuntimeError):
        index.servers(client, 900)
    client.fail = False
    client.all = [_server("a"), _server("z")]
    assert {s["id"] for s in index.servers(client, 900)} == {"a", "z"}
    assert client.calls[-1] is None


@pytest.mark.parametrize("date", [None, "not a date"])
def test_without_novas_clock_every_read_is_full(date: str | None) -> None:
    client = FakeClient([_server("a")], date=date)
    index = ServerIndex(Clock())
    index.servers(client, 900)
    index.servers(client, 900)
    assert client.calls == [None, None]


def test_one_index_per_nova_facade() -> None:
    class Facade:
        pass

    one, two = Facade(), Facade()
    assert for_facade(one) is for_facade(one) and for_facade(one) is not for_facade(two)
