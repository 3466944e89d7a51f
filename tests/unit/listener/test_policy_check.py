"""``host-recovery workflow check --policy FILE`` refuses a wrong-shape host policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from listener import workflow_check
from listener.cmd import operator
from listener.mistral_api import MistralAPI


def test_check_policy_names_the_wrong_shape_and_bad_values(tmp_path: Path) -> None:
    as_list = tmp_path / "list.yaml"
    as_list.write_text("- match: compute1\n  max_concurrency: 2\n")
    assert workflow_check.check_policy(str(as_list)), "a top-level list is not 'no rules'"
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts:\n  - match: compute1\n    max_concurrency: ten\n")
    assert any("max_concurrency" in p for p in workflow_check.check_policy(str(bad)))
    good = tmp_path / "good.yaml"
    good.write_text("hosts:\n  - match: compute1\n    max_concurrency: 2\n")
    assert workflow_check.check_policy(str(good)) == []
    assert workflow_check.check_policy(str(tmp_path / "missing.yaml"))


def test_workflow_check_exits_1_on_a_bad_policy_even_when_mistral_is_fine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    as_list = tmp_path / "list.yaml"
    as_list.write_text("- match: compute1\n")
    monkeypatch.setattr(MistralAPI, "from_conf", lambda conf: None)
    monkeypatch.setattr(workflow_check, "expected_definition", lambda conf: None)
    monkeypatch.setattr(workflow_check, "check", lambda api, expected: [])
    args = operator.build_parser().parse_args(["workflow", "check", "--policy", str(as_list)])
    conf: Any = None
    assert args.func(conf, args) == 1
    assert str(as_list) in capsys.readouterr().out
    as_list.write_text("hosts: []\n")
    assert args.func(conf, args) == 0
    assert "ok" in capsys.readouterr().out
