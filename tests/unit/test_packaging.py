"""Packaging and code-base rules that are easy to break unnoticed."""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["listener", "notifications", "agents", "workflows", "devtools/simulator",
            "devtools/harness", "devtools/bench"]


@pytest.mark.parametrize("name", ["host-recovery", "actions"])
def test_the_sample_config_is_what_the_generator_produces(tmp_path: Path, name: str) -> None:
    out = tmp_path / "sample.conf"
    generator = Path(sys.executable).parent / "oslo-config-generator"
    subprocess.run([str(generator), "--config-file",
                    str(REPO / f"etc/oslo-config-generator/{name}.conf"),
                    "--output-file", str(out)], check=True, cwd=REPO, capture_output=True,
                   # stevedore caches entry points per sys.path; a stale cache hides new ones
                   env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    committed = (REPO / f"etc/host-recovery/{name}.conf.sample").read_text()
    assert out.read_text() == committed, "run `make sample-config` and commit the result"


def test_no_eventlet_in_our_code() -> None:
    offenders = []
    for package in [*PACKAGES, "workflows/actions/host_recovery_actions"]:
        for path in (REPO / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(n.split(".")[0] == "eventlet" for n in names):
                    offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def _setup(path: str) -> configparser.ConfigParser:
    setup = configparser.ConfigParser()
    setup.read(REPO / path)
    return setup


def test_setup_cfg_declares_the_commands_and_the_config_entry_point() -> None:
    setup = _setup("setup.cfg")
    scripts = setup["entry_points"]["console_scripts"]
    for command in ("host-recovery-listener", "host-recovery-notify", "host-recovery "):
        assert command in scripts + " ", command
    assert "oslo.config.opts" in setup["entry_points"]


def test_controllers_never_get_the_development_tools() -> None:
    production = _setup("setup.cfg")
    assert production["files"]["packages"].split() == [
        "listener", "notifications", "agents", "workflows"]
    for tool in ("simulator", "harness", "bench"):
        assert tool not in production["entry_points"]["console_scripts"]
    devtools = _setup("devtools/setup.cfg")
    assert devtools["metadata"]["name"] == "host-recovery-devtools"
    assert devtools["files"]["packages"].split() == ["simulator", "harness", "bench"]
    scripts = devtools["entry_points"]["console_scripts"]
    assert "host-recovery-simulator" in scripts and "host-recovery-harness" in scripts
