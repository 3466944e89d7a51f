"""The workflow YAML's shape: policies come from task-defaults, the tasks that must not retry
override it, the output blocks Mistral makes us repeat stay equal, one report task."""

from __future__ import annotations

from typing import Any

import yaml

from notifications import contract
from workflows import INSTANCE_WORKFLOW_NAME, WORKFLOW_NAME, definition

NO_RETRY = {WORKFLOW_NAME: {"await_approval", "recover"},
            INSTANCE_WORKFLOW_NAME: {"evacuate", "backoff"}}


def _workflows() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(definition())
    return {name: body for name, body in loaded.items() if name != "version"}


def test_only_the_tasks_that_must_not_retry_override_the_default_retry() -> None:
    workflows = _workflows()
    assert set(workflows) == set(NO_RETRY)
    for name, workflow in workflows.items():
        defaults = workflow["task-defaults"]
        assert defaults["retry"]["count"] > 0 and defaults["timeout"], name
        for task_name, task in workflow["tasks"].items():
            retry = task.get("retry")
            assert retry != defaults["retry"], f"{name}.{task_name} repeats the default"
            if task_name in NO_RETRY[name]:
                assert retry == {"count": 0, "delay": 1}, f"{name}.{task_name}"
            elif retry is not None:  # its own, smaller retry (poll, restore)
                assert 0 < retry["count"] < defaults["retry"]["count"], task_name


def test_the_output_on_error_repeats_the_output() -> None:
    # Mistral's YAML loader reads anchors as plain text, so the block is written twice
    workflow = _workflows()[WORKFLOW_NAME]
    assert workflow["output-on-error"] == workflow["output"]


def test_one_report_task_fed_by_the_published_outcome() -> None:
    tasks = _workflows()[WORKFLOW_NAME]["tasks"]
    reports = [n for n, t in tasks.items() if t.get("action") == contract.REPORT]
    assert reports == ["report"]
    assert tasks["report"]["input"]["outcome"] == "<% $.outcome %>"
    assert tasks["report"]["input"]["reason"] == "<% $.reason %>"
