"""DispatchGuard: bodies oslo's dispatcher cannot route reach our endpoint's notify."""

from __future__ import annotations

from typing import Any

import pytest

from notifications import messaging
from notifications.dispatch_guard import DispatchGuard, routable


class Incoming:
    def __init__(self, message: dict[str, Any], ctxt: Any = None) -> None:
        self.message = message
        self.ctxt = ctxt if ctxt is not None else {}


class Endpoint:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def notify(self, *args: Any) -> Any:
        self.calls.append(args)
        return messaging.handled()


class Oslo:
    def __init__(self) -> None:
        self.dispatched: list[Any] = []
        self.supported_priorities = ["info"]

    def dispatch(self, incoming: Any) -> Any:
        self.dispatched.append(incoming)
        return messaging.handled()


@pytest.mark.parametrize("priority", [5, None, ["INFO"], "bogus", ""])
def test_unroutable_priorities_go_to_notify(priority: Any) -> None:
    oslo, endpoint = Oslo(), Endpoint()
    message = {"priority": priority, "publisher_id": "p", "event_type": "e",
               "payload": {"x": 1}, "message_id": "m1", "timestamp": "t"}
    result = DispatchGuard(oslo, [endpoint]).dispatch(Incoming(message, ctxt="not a dict"))
    assert result == messaging.handled()
    assert oslo.dispatched == []
    (call,) = endpoint.calls
    assert isinstance(call[0], str) and call[1] == {}
    assert call[2:] == ("p", "e", {"x": 1}, {"message_id": "m1", "timestamp": "t"})


def test_routable_bodies_stay_with_oslo() -> None:
    oslo, endpoint = Oslo(), Endpoint()
    guard = DispatchGuard(oslo, [endpoint])
    guard.dispatch(Incoming({"priority": "INFO"}))
    assert len(oslo.dispatched) == 1 and endpoint.calls == []
    assert guard.supported_priorities == ["info"]  # the rest of oslo's dispatcher as is
    assert routable({"priority": "sample"}) and not routable({"priority": 1})
