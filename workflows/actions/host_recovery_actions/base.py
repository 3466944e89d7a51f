"""Helpers shared by the actions: execution ids from the context, time, log prefix."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from mistral_lib import actions

__all__ = ["Action", "execution_ids", "now_iso"]


def now_iso() -> str:
    """UTC now as ISO 8601 (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def seconds_since(started: float | str | None) -> float | None:
    """Seconds from ``started`` (epoch, or Mistral's naive UTC "YYYY-MM-DD HH:MM:SS[.f]")."""
    if isinstance(started, str):
        try:
            started = datetime.fromisoformat(started).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return None
    return round(time.time() - started, 1) if started else None


def execution_ids(context: Any) -> dict[str, str | None]:
    """workflow_execution_id, task_execution_id and action_execution_id of this run."""
    execution = getattr(context, "execution", None)
    return {name: getattr(execution, name, None) for name in
            ("workflow_execution_id", "task_execution_id", "action_execution_id")}


class Action(actions.Action):  # mistral-lib is untyped (see pyproject mypy overrides)
    """Our actions: sync unless they say otherwise; ``test`` (dry run) does nothing."""

    def test(self, context: Any) -> None:
        return None
