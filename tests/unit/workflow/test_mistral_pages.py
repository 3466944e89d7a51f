"""The action pack's Mistral lists page with marker/limit: the 1,001st RUNNING wait is found."""

from __future__ import annotations

from typing import Any

from host_recovery_actions.mistral_api import PAGE, MistralAPI


class Answer:
    def __init__(self, body: dict[str, Any]) -> None:
        self.status_code, self.content, self.text = 200, b"x", ""
        self._body = body

    def json(self) -> dict[str, Any]:
        return self._body


class PagedSession:
    """Mistral 23's behaviour: at most ``PAGE`` rows a request, after ``marker``."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.requests: list[dict[str, str]] = []

    def request(self, url: str, method: str, **kwargs: Any) -> Answer:
        params = kwargs["params"]
        self.requests.append(params)
        ids = [r["id"] for r in self.rows]
        start = ids.index(params["marker"]) + 1 if "marker" in params else 0
        limit = min(int(params["limit"]), PAGE)
        return Answer({"action_executions": self.rows[start:start + limit]})


def test_the_1001st_running_wait_is_found() -> None:
    rows = [{"id": f"a-{n:05d}", "name": "wait", "state": "RUNNING",
             "input": {"instance_uuid": f"vm-{n}"}} for n in range(PAGE + 1)]
    session = PagedSession(rows)
    api = MistralAPI("http://mistral/v2", session)
    found = api.running_actions("wait", instance_uuid=f"vm-{PAGE}")
    assert [a["id"] for a in found] == [f"a-{PAGE:05d}"]
    assert len(session.requests) == 2 and session.requests[1]["marker"] == f"a-{PAGE - 1:05d}"
    assert len(api.running_actions("wait")) == PAGE + 1
