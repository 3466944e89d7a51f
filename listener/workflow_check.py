"""Is the recovery workflow Mistral runs the one we ship, with our action pack installed?

Used by ``host-recovery workflow sync`` (create or update), the listener at start-up (refuse
to run against a missing or outdated workflow) and ``host-recovery health``::

    problems = check(api, expected_definition(conf))     # [] when all is well
    changes = sync(api, expected_definition(conf))        # {"name": "created"|...}

Mistral stores each workflow of a document separately and re-serialises it, so definitions
are compared as parsed YAML, workflow by workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from oslo_config import cfg

import workflows
from listener.mistral_api import MistralAPI
from notifications.contract import VERSION, MistralNotFound, MistralRejected

__all__ = ["PACK_ACTION", "Expected", "WorkflowProblem", "check", "check_pack",
           "check_policy", "expected_definition", "sync"]

PACK_ACTION = VERSION


class WorkflowProblem(RuntimeError):
    """The workflow or the action pack in Mistral is not what this listener needs."""


@dataclass(frozen=True)
class Expected:
    """The workflow document we ship (or the operator's override) and its pack version."""

    text: str
    pack_version: str | None

    @property
    def workflows(self) -> dict[str, Any]:
        doc = yaml.safe_load(self.text)
        if not isinstance(doc, dict):
            raise WorkflowProblem("workflow definition is not a YAML mapping")
        return {k: v for k, v in doc.items() if k != "version"}


def expected_definition(conf: cfg.ConfigOpts) -> Expected:
    """[mistral] workflow_definition if set, else the workflows package's definition."""
    if conf.mistral.workflow_definition:
        text = Path(conf.mistral.workflow_definition).read_text(encoding="utf-8")
        return Expected(text, workflows.REQUIRED_PACK_VERSION)
    return Expected(workflows.definition(), workflows.REQUIRED_PACK_VERSION)


def check_pack(api: MistralAPI, expected: Expected) -> str | None:
    """A problem description, or None when Mistral runs the action pack version we need."""
    try:
        result = api.run_action(PACK_ACTION)
    except MistralRejected as exc:
        return (f"action pack missing in Mistral ({PACK_ACTION} failed: {exc}); install "
                "host-recovery-actions into Mistral's virtualenv and restart it")
    installed = result.get("pack_version") if isinstance(result, dict) else None
    if expected.pack_version is not None and str(installed) != str(expected.pack_version):
        return (f"action pack version {installed} in Mistral, this workflow needs "
                f"{expected.pack_version}")
    return None


def _stored(api: MistralAPI, name: str) -> Any:
    try:
        workflow = api.get_workflow(name)
    except MistralNotFound:
        return None
    return (yaml.safe_load(workflow.get("definition") or "") or {}).get(name)


def check(api: MistralAPI, expected: Expected) -> list[str]:
    """Problems with the workflows and the action pack in Mistral ([] = up to date)."""
    problems = []
    for name, body in expected.workflows.items():
        stored = _stored(api, name)
        if stored is None:
            problems.append(f"workflow {name} is missing in Mistral; run "
                            "'host-recovery workflow sync'")
        elif stored != body:
            problems.append(f"workflow {name} in Mistral differs from the expected "
                            "definition; run 'host-recovery workflow sync'")
    pack = check_pack(api, expected)
    if pack:
        problems.append(pack)
    return problems


def check_policy(path: str) -> list[str]:
    """Problems of the host policy file at ``path`` (shape, then every rule's values).

    The action pack's own validation (the gate and plan apply the same): run here so a
    wrong-shape file is refused before Mistral reads it.
    """
    try:
        from host_recovery_actions import host_policy  # the pack: installed on controllers
    except ImportError:  # only Mistral's virtualenv has it here
        return [f"cannot check host policy file {path}: the action pack "
                "(host_recovery_actions) is not installed in this virtualenv"]
    if not Path(path).is_file():
        return [f"host policy file {path} does not exist"]
    return list(host_policy.check(path))


def sync(api: MistralAPI, expected: Expected) -> dict[str, str]:
    """Create or update every workflow of the document; {name: created|updated|unchanged}."""
    pack = check_pack(api, expected)
    if pack:
        raise WorkflowProblem(pack)
    wanted = expected.workflows
    stored = {name: _stored(api, name) for name in wanted}
    changes = {name: ("unchanged" if stored[name] == body else
                      "created" if stored[name] is None else "updated")
               for name, body in wanted.items()}
    missing = [n for n, c in changes.items() if c == "created"]
    present = [n for n in wanted if stored[n] is not None]
    if len(missing) == len(wanted):
        api.create_workflows(expected.text)
    elif not missing:
        if any(c == "updated" for c in changes.values()):
            api.update_workflows(expected.text)
    else:  # some exist, some not: one document per workflow
        version = yaml.safe_load(expected.text).get("version", "2.0")
        for name in missing:
            api.create_workflows(yaml.safe_dump({"version": version, name: wanted[name]},
                                                sort_keys=False))
        for name in present:
            if changes[name] == "updated":
                api.update_workflows(yaml.safe_dump(
                    {"version": version, name: wanted[name]}, sort_keys=False))
    return changes
